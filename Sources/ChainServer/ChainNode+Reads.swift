import ChainStorage
import Logging

/// Reads of local storage share one SQLite read transaction per turn of the event loop.
///
/// A get outside a transaction is a transaction of its own: SQLite takes and drops a WAL-index
/// read lock around it, two `fcntl` calls, about 6 % of the head's time in a read run. A batch of
/// gets answered in one turn now pays that once.
///
/// Why this never serves a value older than the core's committed state: the core takes a read's
/// value from storage only for keys with no write in flight, whose every write it has seen
/// persisted. The batch is ended before the core learns of a new durable batch (`persisted`),
/// and after anything that writes the store outside the committer's batches
/// (`withExclusiveStore`), so a transaction is never older than what the core counts durable.
/// It also ends when the loop turns, so no snapshot outlives the burst of reads it served (a
/// long one would keep the WAL from being checkpointed).
extension ChainNode {
    /// The read connection, inside this turn's read transaction (opened here if needed).
    func readStore() throws -> Store {
        loop.preconditionInEventLoop()
        if !readBatchOpen {
            try reader.beginRead()
            readBatchOpen = true
            loop.execute { self.endReadBatch() }
        }
        return reader
    }

    /// Ends the read transaction, if one is open; the next read starts a new snapshot.
    func endReadBatch() {
        loop.preconditionInEventLoop()
        guard readBatchOpen else { return }
        readBatchOpen = false
        do {
            try reader.endRead()
        } catch {
            logger.error("ending a read transaction failed", metadata: ["error": "\(error)"])
        }
    }

    /// `committer.withExclusiveStore`, then a fresh read snapshot, since `body` writes outside
    /// the committer's batches.
    func withWriter<T: Sendable>(_ body: @Sendable (Store) throws -> T) throws -> T {
        // Updates the core asked to persist before this come first, as the core ordered them.
        submitPersists()
        // No snapshot stays open while the job waits for the committer (it may wait for an fsync).
        endReadBatch()
        defer { endReadBatch() }
        return try committer.withExclusiveStore(body)
    }
}

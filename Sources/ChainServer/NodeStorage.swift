import ChainCore
import ChainStorage
import ChainWire
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore

/// The replica's SQLite storage: a read connection for gets and old values, and the group
/// committer that owns the write connection.
///
/// Reads share one SQLite read transaction per turn of the event loop. A get outside a
/// transaction is a transaction of its own: SQLite takes and drops a WAL-index read lock around
/// it, two `fcntl` calls, about 6 % of the head's time in a read run. A batch of gets answered in
/// one turn now pays that once.
///
/// Why this never serves a value older than the core's committed state: the core takes a read's
/// value from storage only for keys with no write in flight, whose every write it has seen
/// persisted. The batch is ended before the core learns of a new durable batch (`endReadBatch`
/// from the shell's `persisted`), and after anything that writes the store outside the
/// committer's batches (`withWriter`), so a transaction is never older than what the core counts
/// durable. It also ends when the loop turns, so no snapshot outlives the burst of reads it
/// served (a long one would keep the WAL from being checkpointed).
///
/// Updates to persist are handed to the committer once per turn of the loop, not one by one: a
/// burst of forwards read in one turn then wakes the committer once and becomes one group commit
/// (one fsync), where handing over the first alone made it commit that one and the rest in a
/// second batch. Confined to the loop, except the committer's own thread.
final class NodeStorage: ReplicaStorage, @unchecked Sendable {
    private let loop: EventLoop
    private let writer: Store
    private let reader: Store
    private let logger: Logger
    private let diskFaults: DiskFaultHandler
    private var committer: GroupCommitter?
    /// How long a group commit may wait for more updates (`ServerConfig.commitDelayUs`).
    private let commitDelay: CommitDelay
    private var readBatchOpen = false
    private var queue: [StoredUpdate] = []

    init(writer: Store, reader: Store, commitDelay: CommitDelay, loop: EventLoop, logger: Logger, diskFaults: DiskFaultHandler) {
        self.commitDelay = commitDelay
        self.diskFaults = diskFaults
        self.writer = writer
        self.reader = reader
        self.loop = loop
        self.logger = logger
    }

    func start(onDurable: @escaping @Sendable (UInt64, Int, Duration) -> Void) {
        precondition(committer == nil, "storage starts once")
        let (logger, diskFaults) = (self.logger, self.diskFaults)
        committer = GroupCommitter(store: writer, delay: commitDelay, onDurable: onDurable, onError: { error in
            // The failed batch and everything after it are never reported durable. A disk fault
            // fails stop or (full) makes the server leave its chains (DiskFaultHandler).
            if diskFaults.failed(error, while: "committing updates") { return }
            // Any other failure: a node that cannot write must not stay in the chain: exit like a
            // crash, so the leader repairs the chain and nothing is acknowledged that is not on disk.
            logger.critical("storage commit failed; exiting", metadata: ["error": "\(error)"])
            _exit(DiskFaultHandler.failStopStatus)
        })
    }

    func value(of key: String) throws -> VersionedValue? { try readStore().getVersioned(key) }

    func rows(in range: KeyRange, limit: Int, byteLimit: Int) throws -> (rows: [RangeRow], complete: Bool) {
        try readStore().rows(in: range, limit: limit, byteLimit: byteLimit)
    }

    func outcome(seq: UInt64) throws -> WriteOutcome? { try readStore().outcome(seq: seq) }

    func persist(_ update: StoredUpdate) {
        if queue.isEmpty {
            loop.execute { self.submitQueued() }
        }
        queue.append(update)
    }

    func submitQueued() {
        loop.preconditionInEventLoop()
        guard !queue.isEmpty, let committer else { return }
        committer.submit(taking: &queue)
    }

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

    func recordEpoch(_ epoch: UInt64) throws { try withWriter { try $0.setEpoch(epoch) } }
    func reset(lastSeq: UInt64) throws { try withWriter { try $0.reset(lastSeq: lastSeq) } }

    func load(rows: [Row]) throws {
        let tuples = rows.map { (key: $0.key, value: $0.value, version: $0.version) }
        try withWriter { try $0.load(versioned: tuples) }
    }

    func load(outcomes: [WriteOutcome]) throws { try withWriter { try $0.loadOutcomes(outcomes) } }
    func requests() throws -> [(RequestID, seq: UInt64)] { try withWriter { try $0.requests() } }

    func stop() {
        committer?.stop()
        reader.close()
    }

    /// After `stop` and once no other connection is open (the checkpointer's): copies the whole WAL
    /// into the database file and empties it, then closes the writer, so a stopped server's file
    /// holds everything by itself (the start-up check then sees every page as the server will).
    func closeWriter() {
        do {
            try writer.checkpointTruncate()
        } catch {
            diskFaults.failed(error, while: "checkpointing the WAL at stop")
            logger.warning("final checkpoint failed; the WAL is kept", metadata: ["error": "\(error)"])
        }
        writer.close()
    }

    /// The read connection, inside this turn's read transaction (opened here if needed).
    private func readStore() throws -> Store {
        loop.preconditionInEventLoop()
        if !readBatchOpen {
            try reader.beginRead()
            readBatchOpen = true
            loop.execute { self.endReadBatch() }
        }
        return reader
    }

    /// `committer.withExclusiveStore`, then a fresh read snapshot, since `body` writes outside
    /// the committer's batches.
    private func withWriter<T: Sendable>(_ body: @Sendable (Store) throws -> T) throws -> T {
        guard let committer else { preconditionFailure("storage is written only after start") }
        // Updates the core asked to persist before this come first, as the core ordered them.
        submitQueued()
        // No snapshot stays open while the job waits for the committer (it may wait for an fsync).
        endReadBatch()
        defer { endReadBatch() }
        return try committer.withExclusiveStore(body)
    }
}

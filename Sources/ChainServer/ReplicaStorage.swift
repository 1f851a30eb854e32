import ChainCore
import ChainStorage
import ChainWire

/// What the replica shell needs of local storage. `NodeStorage` is the SQLite one; the shell
/// tests use an in-memory one. Every call is made on the server's loop.
protocol ReplicaStorage: AnyObject {
    /// Starts the disk writer; `onDurable` is called (on any thread) after each group commit with
    /// the highest seq now on disk, the batch size and the commit's duration.
    func start(onDurable: @escaping @Sendable (_ through: UInt64, _ batch: Int, _ duration: Duration) -> Void)
    /// The key's value and version in committed local state.
    func value(of key: String) throws -> VersionedValue?
    /// The first rows of `range` in byte order in committed local state (`Store.rows(in:)`).
    func rows(in range: KeyRange, limit: Int, byteLimit: Int) throws -> (rows: [RangeRow], complete: Bool)
    /// The outcome kept with update `seq`, if it is still kept.
    func outcome(seq: UInt64) throws -> WriteOutcome?
    /// Queues an update for the next group commit; `onDurable` reports it.
    func persist(_ update: StoredUpdate)
    /// Hands queued updates to the writer now (before the event's replies are flushed).
    func submitQueued()
    /// Ends the current read snapshot: called when the core learns of a new durable batch, so the
    /// next read sees it.
    func endReadBatch()
    /// Stores the epoch durably before the call returns.
    func recordEpoch(_ epoch: UInt64) throws
    /// Snapshot reception: empty the database at `lastSeq`, then load rows and outcomes.
    func reset(lastSeq: UInt64) throws
    func load(rows: [Row]) throws
    func load(outcomes: [WriteOutcome]) throws
    /// The requests of the kept outcomes, as a restarted core takes them.
    func requests() throws -> [(RequestID, seq: UInt64)]
    /// Commits what is queued and stops the writer.
    func stop()
}

import ChainCore
import ChainStorage
import Logging
import NIOCore

/// One chain's SQLite database on this server, open: the writer (owned by the group committer
/// through `NodeStorage`), the reader, the WAL checkpointer, and what was on disk at opening.
///
/// One file per chain (`chainkv-<id>.sqlite`; the single chain of an unsharded cluster keeps
/// `chainkv.sqlite`): a chain that moves away is one file to delete, a snapshot of one chain is
/// one read transaction of one file, and chains commit independently. The price: one fsync per
/// chain per group commit, where one shared file would merge them (README, "Shards").
final class ChainDatabase: @unchecked Sendable {
    let path: String
    let storage: NodeStorage
    let lastSeq: UInt64
    let epoch: UInt64
    let requests: [(RequestID, seq: UInt64)]
    /// The file replaced a damaged one (moved aside at this start or an earlier one) and holds
    /// none of the chain's writes until a snapshot (`Store.needsTransfer`).
    let needsTransfer: Bool
    private let checkpointer: Checkpointer

    /// The file of chain `chain` in `dataDir` (nil: the unsharded cluster's one chain).
    static func path(dataDir: String, chain: String?) -> String {
        chain.map { "\(dataDir)/chainkv-\($0).sqlite" } ?? "\(dataDir)/chainkv.sqlite"
    }

    /// - Parameter keyIndex: keep the key index for range reads (`Store.setKeyIndex`).
    /// - Parameter commitDelay: how long a group commit may wait for more updates (`CommitDelay`).
    init(path: String, keyIndex: Bool, commitDelay: CommitDelay, loop: EventLoop, logger: Logger, diskFaults: DiskFaultHandler) throws {
        let replaced = try DamagedDatabase.checkAtStart(path: path, logger: logger)
        // The reader keeps the default cache (gets at the head hit it); the writer's pages are
        // read back from the OS cache when missing, off the event loop.
        let writer = try Store(path: path, cacheKiB: 8 * 1024)
        let reader = try Store(path: path)
        lastSeq = try writer.lastSeq()
        epoch = try writer.epoch()
        requests = try writer.requests()
        if replaced { try writer.markNeedsTransfer() }
        needsTransfer = try writer.needsTransfer()
        let rows = try writer.count()
        let started = NIODeadline.now()
        if try writer.setKeyIndex(keyIndex) {
            // Notable only for a file that had rows: building the index then took a while.
            logger.log(level: rows > 0 ? .notice : .debug, keyIndex ? "key index built" : "key index dropped", metadata: [
                "path": "\(path)", "rows": "\(rows)", "ms": "\((NIODeadline.now() - started).nanoseconds / 1_000_000)"])
        }
        logger.info("storage opened", metadata: ["path": "\(path)", "lastSeq": "\(lastSeq)", "epoch": "\(epoch)",
                                                 "rows": "\(rows)", "outcomes": "\(requests.count)",
                                                 "needsTransfer": "\(needsTransfer)"])
        // WAL checkpoints on their own thread, not inline in a group commit (see Checkpointer).
        // Every 30 s it also hands the heap's free pages back to the system: glibc keeps them
        // otherwise, and the resident size then shows the peak of a burst (a preload with
        // thousands of writes in flight) long after it ended (152 against 138 MiB after a
        // 200,000-entry preload). Not more often: a trim holds the arenas' locks while it walks
        // them, and the pages it returns are faulted back in; every 5 s that showed in the
        // write p99.9 (38 and 67 ms against 24 and 21 ms without, back to back).
        checkpointer = try Checkpointer(path: path, housekeeping: HeapControl.trim,
                                        onDiskFault: { error in diskFaults.failed(error, while: "checkpointing the WAL into \(path)") })
        self.path = path
        storage = NodeStorage(writer: writer, reader: reader, commitDelay: commitDelay, loop: loop, logger: logger, diskFaults: diskFaults)
    }

    /// Stops the committer (after it committed what it was handed) and the checkpointer, then
    /// empties the WAL into the file and closes it.
    func stop() {
        storage.stop()
        checkpointer.stop()
        storage.closeWriter()
    }
}

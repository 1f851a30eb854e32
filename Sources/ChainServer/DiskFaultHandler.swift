import ChainCoordination
import ChainStorage
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// What the server does when its disk fails (README, "Disk faults"). Every storage failure of the
/// server's write path, background checkpoints, snapshot loads and reads comes here; one that is
/// not a disk fault (`DiskFault`) is left to the caller.
///
/// - An I/O error (EIO from write or fsync: SQLITE_IOERR_*) or a damaged page (SQLITE_CORRUPT)
///   ends the process at once with `failStopStatus`, like a crash: the chain rule is that a
///   replica acknowledges only what is durable, and after a failed fsync nothing written since the
///   last good one is known to be (Linux may drop the dirty pages and report the next fsync as a
///   success). Leaving the chain at once makes the leader repair it (the port refuses); the
///   restarted server rejoins as any revived one, by state transfer.
/// - A full disk (SQLITE_FULL) goes to `onFull` once it is installed (the server then leaves the
///   chain and waits for space: `ServerNode+DiskFull`); before that, it fails stop too.
///
/// Called from any thread: the committer's, the checkpointer's or the loop.
final class DiskFaultHandler: Sendable {
    /// The exit status of a fail-stop for a disk fault (EX_SOFTWARE, as a failed commit always used).
    static let failStopStatus: Int32 = 70

    private let logger: Logger
    private let onFull = Locked<(@Sendable (_ reason: String) -> Void)?>(nil)

    init(logger: Logger) {
        self.logger = logger
    }

    /// What to do when the disk is full (once the server can leave its chains and wait).
    func install(onFull handler: @escaping @Sendable (_ reason: String) -> Void) {
        onFull.withLock { $0 = handler }
    }

    /// Handles `error` if it is a disk fault: a fail-stop (never returns) or the disk-full reaction
    /// (returns true). False: not a disk fault, the caller handles it.
    @discardableResult
    func failed(_ error: any Error, while what: String) -> Bool {
        guard let fault = DiskFault(error) else { return false }
        let reason = "\(fault.rawValue) while \(what): \(error)"
        if fault == .full, let handler = onFull.withLock({ $0 }) {
            handler(reason)
            return true
        }
        logger.error("disk fault: leaving the chain fail-stop (exit \(Self.failStopStatus)); nothing written since the last good fsync can be trusted, so this server acknowledges nothing more and rejoins by state transfer when restarted",
                     metadata: ["fault": "\(fault.rawValue)", "while": "\(what)", "error": "\(error)"])
        _exit(Self.failStopStatus)
    }
}

import ChainCore
import CSQLite
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Copies the WAL back into the database file on a thread of its own, so that the group committer
/// does not do it inline in a commit.
///
/// Without it, SQLite checkpoints in the COMMIT that pushes the WAL past `wal_autocheckpoint`:
/// the committer thread then copies every page changed since the last checkpoint and fsyncs the
/// database file before that commit returns, and every write waiting for that batch waits too
/// (the profile showed those stalls as the p99 of writes).
///
/// Here a second connection runs a PASSIVE checkpoint every `interval`: it never blocks the writer
/// or readers, and copies only frames that are committed. The writer's own auto-checkpoint stays
/// on as the bound on the WAL's size (`Store.walBudgetBytes`): a writer restarts the WAL from its
/// beginning only when a checkpoint has copied all of it, which a checkpoint running beside a busy
/// writer rarely finishes; when the WAL reaches that bound, the commit's own checkpoint copies
/// what changed since this thread's last round. Under a writer at full speed that is about half
/// the copying (the bound fills in about 2.7 s, this runs every 2 s: bench/2026-12-05-checkpoint),
/// on the commit path; at ordinary rates the bound takes minutes to fill and this does nearly all.
///
/// Durability is unchanged: a checkpoint only copies pages that are already durable in the WAL,
/// and fsyncs the database file before it marks them copied.
public final class Checkpointer: Sendable {
    private let state: CheckpointLoop

    /// Opens a connection of its own to `path` and starts the thread. `housekeeping`, if given,
    /// runs on the same thread about every `housekeepingEvery` (a whole number of rounds, at least
    /// one; the server returns freed heap memory to the system there, off the event loop and the
    /// committer).
    /// `interval` is 2 s, not less: each checkpoint copies every page changed since the last
    /// one, and a busy database's hot pages change again within milliseconds, so more frequent
    /// checkpoints copy the same pages more often (see `Store.walBudgetBytes`).
    /// `onDiskFault` gets a checkpoint's I/O error or damaged page (`DiskFault` .io or .corrupt):
    /// a failed fsync of the database file leaves it untrustworthy. Other failures (a full disk
    /// included: the WAL still holds every committed page) are only logged.
    public init(path: String, interval: Duration = .milliseconds(2000), housekeepingEvery: Duration = .seconds(30),
                housekeeping: (@Sendable () -> Void)? = nil, onDiskFault: (@Sendable (any Error) -> Void)? = nil) throws {
        precondition(interval > .zero, "interval must be positive")
        let store = try Store(path: path, cacheKiB: 256)
        // Derived from the two durations, so that a new interval keeps housekeeping's period.
        let housekeepingRounds = max(1, Int(housekeepingEvery / interval))
        state = CheckpointLoop(store: store, intervalNs: Int(interval.wholeNanoseconds),
                               housekeepingRounds: housekeepingRounds, housekeeping: housekeeping, onDiskFault: onDiskFault)
        state.start()
    }

    deinit {
        state.stop()
    }

    /// Stops the thread (after the checkpoint in progress, if any) and closes its connection.
    /// Idempotent.
    public func stop() {
        state.stop()
    }
}

private let logger = Logger(label: "chainkv.storage.checkpointer")

/// `@unchecked Sendable`: `stopping` and `exited` are guarded by `monitor`; the store is used by
/// the checkpoint thread only, and closed after it exited.
private final class CheckpointLoop: @unchecked Sendable {
    private let store: Store
    private let intervalNs: Int
    private let housekeepingRounds: Int
    private let housekeeping: (@Sendable () -> Void)?
    private let onDiskFault: (@Sendable (any Error) -> Void)?
    private let monitor = Monitor()
    private var stopping = false
    private var started = false
    private var exited = false

    init(store: Store, intervalNs: Int, housekeepingRounds: Int, housekeeping: (@Sendable () -> Void)?,
         onDiskFault: (@Sendable (any Error) -> Void)?) {
        self.onDiskFault = onDiskFault
        self.store = store
        self.intervalNs = intervalNs
        self.housekeepingRounds = housekeepingRounds
        self.housekeeping = housekeeping
    }

    func start() {
        DetachedThread.start("checkpoint") { self.run() }
        monitor.withLock { started = true }
    }

    func stop() {
        monitor.withLock {
            stopping = true
            monitor.broadcast()
            while started && !exited { monitor.wait() }
        }
    }

    private func run() {
        ThreadName.set("ckv-checkpoint")
        var round = 0
        while true {
            let stop = monitor.withLock { () -> Bool in
                if !stopping { monitor.wait(nanoseconds: intervalNs) }
                return stopping
            }
            if stop { break }
            do {
                try store.checkpointPassive()
            } catch {
                if let fault = DiskFault(error), fault != .full, let onDiskFault {
                    onDiskFault(error)
                }
                // Otherwise not fatal: the writer's own auto-checkpoint still bounds the WAL.
                logger.warning("background checkpoint failed", metadata: ["error": "\(error)"])
            }
            round += 1
            if round % housekeepingRounds == 0 { housekeeping?() }
        }
        store.close()
        monitor.withLock {
            exited = true
            monitor.broadcast()
        }
    }
}

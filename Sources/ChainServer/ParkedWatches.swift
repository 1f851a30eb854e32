import ChainCore
import NIOCore

/// Watch requests that found no change yet and wait for one, each answered at the latest when
/// its timer fires. A waiting watch holds only its request (its range and where it resumes):
/// changes are read from the core's history when they commit, never queued per watcher.
struct ParkedWatches {
    /// Waiting watches per chain on one server: each is one client request that costs a
    /// dictionary entry and a timer; more are refused with `overloaded` (the client backs off).
    static let perChainMax = 4096

    struct Watch {
        var ref: ClientRef
        var range: KeyRange
        /// Sequence number the watcher has seen everything up to.
        var after: UInt64
        var limit: Int
        var timer: Scheduled<Void>?
    }

    private(set) var waiting: [ClientRef: Watch] = [:]
    /// The stable sequence number and epoch when the waiting watches were last looked at.
    private var lookedAt: (stable: UInt64, epoch: UInt64) = (0, 0)

    var isEmpty: Bool { waiting.isEmpty }
    var isFull: Bool { waiting.count >= Self.perChainMax }

    mutating func park(_ watch: Watch, stable: UInt64, epoch: UInt64) {
        precondition(!isFull, "parked past perChainMax")
        if waiting.isEmpty { lookedAt = (stable, epoch) }
        // A client that reuses a request id replaces its waiting watch: the old timer must not
        // answer the new one early.
        waiting.updateValue(watch, forKey: watch.ref)?.timer?.cancel()
    }

    /// Watches one connection has waiting: at most `perConnectionMax`, so one client cannot
    /// take every place.
    func count(connection: UInt64) -> Int {
        waiting.keys.reduce(0) { $0 + ($1.connection == connection ? 1 : 0) }
    }

    static let perConnectionMax = 1024

    /// Removes a watch (answered now); cancels its timer unless it is the one firing.
    mutating func remove(_ ref: ClientRef, cancelTimer: Bool = true) -> Watch? {
        guard let watch = waiting.removeValue(forKey: ref) else { return nil }
        if cancelTimer { watch.timer?.cancel() }
        return watch
    }

    mutating func update(_ ref: ClientRef, after: UInt64) {
        waiting[ref]?.after = after
    }

    mutating func setTimer(_ ref: ClientRef, _ timer: Scheduled<Void>) {
        waiting[ref]?.timer = timer
    }

    /// nil when nothing changed since the watches were last looked at, else whether the epoch is
    /// new (that matters on its own: see `ReplicaShell.wakeWatches`); records the new state.
    mutating func needsWake(stable: UInt64, epoch: UInt64) -> Bool? {
        guard (stable, epoch) != lookedAt else { return nil }
        defer { lookedAt = (stable, epoch) }
        return epoch != lookedAt.epoch
    }

    /// The connection closed: its watches will never be answered.
    mutating func closed(connection: UInt64) {
        for ref in waiting.keys where ref.connection == connection { _ = remove(ref) }
    }
}

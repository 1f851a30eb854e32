import NIOCore

/// Whether a connection has gone `timeout` without a read or a completed write, checked every
/// `period` by its `ConnectionGuard`. Confined to the connection's loop.
///
/// Why not NIO's `IdleStateHandler`: to learn when writes complete, it makes a promise, a future
/// and a callback for every write, and reads the clock after every read batch. With one reply per
/// write (a closed-loop client) that was about 4 % of a server's CPU. Here a read sets a flag, and
/// at most one write per period is followed to its completion: one completed write per period is
/// enough to say the connection was not idle in it.
struct IdleWatch {
    let timeout: TimeAmount
    /// Checks per timeout: a connection is closed between `timeout` and `timeout` plus two periods
    /// after its last read or completed write, and never before `timeout`.
    static let checksPerTimeout: Int64 = 8
    /// Shortest check period, so a tiny timeout does not make a busy timer.
    static let periodMin = TimeAmount.milliseconds(10)

    var period: TimeAmount { .nanoseconds(max(timeout.nanoseconds / Self.checksPerTimeout, Self.periodMin.nanoseconds)) }

    /// No activity is known after this: the time of the check that last saw some (or the start).
    private var lastActive: NIODeadline
    private var activeSinceCheck = false
    /// A write's completion is being followed.
    private var following = false
    /// The next write may be followed: once per period, so writes cost no promise of ours.
    private var armed = true

    init(timeout: TimeAmount, now: NIODeadline) {
        precondition(timeout.nanoseconds > 0, "an idle timeout is positive")
        self.timeout = timeout
        lastActive = now
    }

    mutating func read() { activeSinceCheck = true }

    /// Whether to follow this write to its completion (then call `writeCompleted` when it does).
    mutating func follows() -> Bool {
        guard armed, !following else { return false }
        armed = false
        following = true
        return true
    }

    /// The write being followed completed (or failed: the connection is closing anyway).
    mutating func writeCompleted() {
        following = false
        activeSinceCheck = true
    }

    /// Called every `period`: true once the connection has been idle for `timeout`. Activity seen
    /// since the last check counts as of `now`, the latest it can have happened, so a connection
    /// is never called idle early.
    mutating func check(now: NIODeadline) -> Bool {
        if activeSinceCheck {
            lastActive = now
            activeSinceCheck = false
        }
        armed = true
        return now - lastActive >= timeout
    }
}

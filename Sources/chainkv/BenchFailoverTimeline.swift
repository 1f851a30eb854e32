import Synchronization

/// When each operation of one closed loop succeeded or failed (monotonic nanoseconds), and the
/// unavailability measure computed from it: the longest gap between two successive successes.
final class BenchFailoverTimeline: Sendable {
    private struct State {
        /// Successes in completion order (one loop: invocations are in order too).
        var invoked: [UInt64] = []
        var completed: [UInt64] = []
        var failures: [(at: UInt64, message: String)] = []
    }

    private let state = Mutex(State())

    func success(invoked: UInt64, completed: UInt64) {
        state.withLock {
            $0.invoked.append(invoked)
            $0.completed.append(completed)
        }
    }

    func failure(at: UInt64, _ message: String) {
        state.withLock { $0.failures.append((at, message)) }
    }

    /// Whether an operation invoked at or after `t` has succeeded.
    func succeeded(invokedAfter t: UInt64) -> Bool {
        state.withLock { ($0.invoked.last ?? 0) >= t }
    }

    /// Whether an operation completed successfully at or after `t`.
    func succeeded(completedAfter t: UInt64) -> Bool {
        state.withLock { ($0.completed.last ?? 0) >= t }
    }

    /// The measure for one kill at `kill`, with the cluster whole again at `end`: the longest gap
    /// between successive successful completions from the last one before the kill through the
    /// first one after `end`. Without a success after `end`, the gap still open at `now` counts
    /// and the result is marked open (a lower bound).
    func gap(kill: UInt64, end: UInt64, now: UInt64) -> BenchFailoverGap {
        state.withLock { s in
            let firstAtKill = s.completed.partitionIndex { $0 >= kill }
            var previous = firstAtKill > 0 ? s.completed[firstAtKill - 1] : kill
            var worst: UInt64 = 0, worstStart = previous
            var closed = false
            var count = 0
            var i = firstAtKill
            while i < s.completed.count {
                let t = s.completed[i]
                if t - previous > worst { worst = t - previous; worstStart = previous }
                previous = t
                count += 1
                i += 1
                if t > end { closed = true; break }
            }
            if !closed, now > previous, now - previous > worst { worst = now - previous; worstStart = previous }
            let firstInvokedAfter = s.invoked.partitionIndex { $0 >= kill }
            let firstAfterKill = firstInvokedAfter < s.completed.count ? BenchFailoverWait.ms(kill, s.completed[firstInvokedAfter]) : nil
            let failed = s.failures.filter { $0.at >= kill && $0.at <= max(end, previous) }
            var samples: [String] = []
            for f in failed where samples.count < 3 && !samples.contains(f.message) { samples.append(f.message) }
            return BenchFailoverGap(unavailableMs: Double(worst) / 1e6, startMs: BenchFailoverWait.ms(kill, worstStart),
                                    firstSuccessAfterKillMs: firstAfterKill, open: !closed, successes: count,
                                    errors: failed.count, errorSamples: samples)
        }
    }

    /// The loop's throughput around `kill`, up to `now` (see BenchFailoverRate).
    func rate(kill: UInt64, now: UInt64) -> BenchFailoverRate? {
        state.withLock { BenchFailoverRate(completions: $0.completed, kill: kill, now: now) }
    }

    /// Forgets what happened before `t`, keeping the last success before it (the start of the next gap).
    func discard(before t: UInt64) {
        state.withLock { s in
            let keepFrom = max(0, s.completed.partitionIndex { $0 >= t } - 1)
            s.completed.removeFirst(keepFrom)
            s.invoked.removeFirst(keepFrom)
            s.failures.removeAll { $0.at < t }
        }
    }
}

/// One loop's unavailability around one kill.
struct BenchFailoverGap: Codable, Sendable {
    /// Longest time between two successive successful operations, from the last success before the
    /// kill until the cluster was whole again (victim restarted and back in the chain).
    var unavailableMs: Double
    /// Where that longest gap began, relative to the kill (negative: the last success before it).
    var startMs: Double
    /// When the first operation invoked after the kill succeeded, relative to the kill.
    var firstSuccessAfterKillMs: Double?
    /// No success closed the window: unavailableMs is a lower bound.
    var open: Bool
    var successes: Int
    /// Operations that failed (threw) in the window: client-observed errors.
    var errors: Int
    var errorSamples: [String]
    /// Successful operations per second around the kill (the failover chart's line).
    var rate: BenchFailoverRate?
}

extension Array where Element == UInt64 {
    /// Index of the first element for which `predicate` holds, in an array sorted so that it
    /// holds for a suffix (binary search); count if none.
    func partitionIndex(_ predicate: (UInt64) -> Bool) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if predicate(self[mid]) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}

/// One loop's throughput around one kill: successful completions per fixed bucket, from
/// `RateWindow.beforeMs` before the kill to `afterMs` after it, as operations per second.
/// Only buckets that had ended when the kill was measured are kept, so a quick recovery gives a
/// shorter line rather than a made-up tail of zeros.
public struct RateWindow: Codable, Sendable, Equatable {
    /// Bucket width: 50 ms shows a 400 ms outage as eight empty buckets and still counts tens of
    /// operations per bucket for one closed-loop client at a few hundred operations per second.
    public static let bucketMs = 50.0
    /// Window kept around every kill: the steady rate before it and the recovery after it.
    public static let beforeMs = 1000.0
    public static let afterMs = 2500.0

    /// Start of the first bucket, relative to the kill (negative: before it).
    public var fromMs: Double
    public var bucketMs: Double
    public var opsPerSecond: [Double]

    public init(fromMs: Double, bucketMs: Double, opsPerSecond: [Double]) {
        self.fromMs = fromMs
        self.bucketMs = bucketMs
        self.opsPerSecond = opsPerSecond
    }

    /// From completion times (monotonic ns, ascending) around `kill`, with `now` the time of the
    /// measurement. Buckets before the first completion kept are dropped (the loop's history was
    /// discarded there), so a missing start is not drawn as an outage.
    public init?(completions: [UInt64], kill: UInt64, now: UInt64) {
        let width = UInt64(Self.bucketMs * 1e6)
        let before = UInt64(Self.beforeMs * 1e6), after = UInt64(Self.afterMs * 1e6)
        guard kill >= before, let first = completions.first else { return nil }
        var start = kill - before
        // Whole buckets only, starting at or after the oldest completion still held.
        while start < first, start + width <= kill { start += width }
        let end = min(kill + after, now)
        guard end > start + width else { return nil }
        let buckets = Int((end - start) / width)
        var counts = [Int](repeating: 0, count: buckets)
        var lo = 0, hi = completions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if completions[mid] >= start { hi = mid } else { lo = mid + 1 }
        }
        var i = lo
        while i < completions.count {
            let bucket = Int((completions[i] - start) / width)
            if bucket >= buckets { break }
            counts[bucket] += 1
            i += 1
        }
        fromMs = -Double(kill - start) / 1e6
        bucketMs = Self.bucketMs
        opsPerSecond = counts.map { Double($0) * 1000 / Self.bucketMs }
    }
}

import Foundation

/// Progress lines on stderr, stamped with the seconds since the run began.
enum BenchFailoverLog {
    static let start = benchNow()

    static func say(_ line: String) {
        benchStderr(String(format: "failover [%6.1fs] ", seconds(benchNow())) + line + "\n")
    }

    /// Seconds from the start of the run to `t` (monotonic nanoseconds).
    static func seconds(_ t: UInt64) -> Double {
        t >= start ? Double(t - start) / 1e9 : 0
    }
}

import Foundation
import Glibc

/// Progress lines on stderr, stamped with the seconds since the run began.
enum BenchFailoverLog {
    static let start = benchNow()

    static func say(_ line: String) {
        write(String(format: "failover [%6.1fs] ", seconds(benchNow())) + line + "\n")
    }

    /// Writes to stderr, ignoring errors: when the reader of a pipe on stderr is gone (a tee that
    /// took the terminal's Ctrl-C), FileHandle's write would trap instead.
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// Seconds from the start of the run to `t` (monotonic nanoseconds).
    static func seconds(_ t: UInt64) -> Double {
        t >= start ? Double(t - start) / 1e9 : 0
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time of processes, as `chainkv bench` records it around each measured point: servers from
/// /proc/<pid>/stat (Linux only), the bench process itself from getrusage(RUSAGE_SELF).
public enum ProcessCPU {
    /// utime + stime, in clock ticks, from the text of /proc/<pid>/stat; nil if the text is not such a line.
    ///
    /// The second field (comm, the command name in parentheses) may itself contain spaces and
    /// parentheses, so the fields are counted after the *last* ')': the one after it is field 3 (state),
    /// utime and stime are fields 14 and 15 (proc(5)).
    public static func ticks(statText: String) -> UInt64? {
        guard let close = statText.lastIndex(of: ")") else { return nil }
        let fields = statText[statText.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
        // fields[0] is field 3, so field n is fields[n - 3].
        guard fields.count > 12, let utime = UInt64(fields[11]), let stime = UInt64(fields[12]) else { return nil }
        let (sum, overflow) = utime.addingReportingOverflow(stime)
        return overflow ? nil : sum
    }

    /// utime + stime of process `pid` in clock ticks, or nil if /proc/<pid>/stat cannot be read
    /// (no such process, or not Linux).
    public static func ticks(pid: Int) -> UInt64? {
        guard pid > 0, let text = readSmallFile("/proc/\(pid)/stat") else { return nil }
        return ticks(statText: text)
    }

    /// Clock ticks per second, the unit of /proc/<pid>/stat's times (sysconf(_SC_CLK_TCK), 100 on Linux).
    public static let ticksPerSecond: Int = {
        let t = sysconf(Int32(_SC_CLK_TCK))
        return t > 0 ? t : 100
    }()

    /// User plus system CPU time of this process so far, in microseconds (getrusage(RUSAGE_SELF)).
    public static func selfMicros() -> UInt64 {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF_WHO, &usage) == 0 else { return 0 }
        func micros(_ t: timeval) -> UInt64 { UInt64(max(0, t.tv_sec)) &* 1_000_000 &+ UInt64(max(0, Int(t.tv_usec))) }
        return micros(usage.ru_utime) &+ micros(usage.ru_stime)
    }

    #if canImport(Glibc)
    private static let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
    private static let RUSAGE_SELF_WHO = RUSAGE_SELF
    #endif

    /// The whole text of a small file such as /proc/<pid>/stat (whose size stat(2) reports as 0), or nil.
    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

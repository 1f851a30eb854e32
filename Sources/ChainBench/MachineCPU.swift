#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The whole machine's CPU time, from the first line of /proc/stat: beside a point's own servers
/// and client, how busy every core was, so a reader can tell a run bound by the machine's cores
/// (busy near the core count) from one waiting on round trips or the disk, and see CPU taken by
/// processes outside the measurement (busy well above the servers' and client's own share).
public struct MachineTicks: Sendable, Equatable {
    /// Clock ticks the cores spent on anything but idle and iowait, summed over the cores.
    public var busy: UInt64
    /// All clock ticks, summed over the cores.
    public var total: UInt64

    public init(busy: UInt64, total: UInt64) {
        self.busy = busy
        self.total = total
    }

    /// From the text of /proc/stat: its "cpu" line's user, nice, system, idle, iowait, irq, softirq
    /// and steal ticks (guest time is already inside user and nice, proc(5)). Nil if the text does
    /// not start with such a line.
    public init?(procStat text: String) {
        guard let line = text.split(separator: "\n", maxSplits: 1).first else { return nil }
        let fields = line.split(separator: " ")
        guard fields.count >= 9, fields[0] == "cpu" else { return nil }
        var ticks: [UInt64] = []
        var total: UInt64 = 0
        for field in fields[1...8] {
            guard let value = UInt64(field) else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(value)
            guard !overflow else { return nil }
            ticks.append(value)
            total = sum
        }
        // idle + iowait ≤ total, which did not overflow.
        self.init(busy: total - ticks[3] - ticks[4], total: total)
    }

    /// The machine's ticks now; nil where /proc/stat cannot be read (not Linux).
    public static func now() -> MachineTicks? {
        ProcessCPU.readSmallFile("/proc/stat").flatMap { MachineTicks(procStat: $0) }
    }

    /// Cores busy on average between `start` and `end`: the busy share of all ticks times the
    /// number of cores. Nil if the counters did not move forward.
    public static func busyCores(from start: MachineTicks, to end: MachineTicks, cores: Int) -> Double? {
        guard end.total > start.total, end.busy >= start.busy, cores > 0 else { return nil }
        return Double(end.busy - start.busy) / Double(end.total - start.total) * Double(cores)
    }

    /// Cores online now (sysconf), at least 1.
    public static var onlineCores: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

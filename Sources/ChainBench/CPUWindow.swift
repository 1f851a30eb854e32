/// CPU times of the servers and of the bench process at one instant.
public struct CPUSnapshot: Sendable, Equatable {
    /// utime + stime in clock ticks by pid; a pid whose /proc/<pid>/stat could not be read is absent.
    public var serverTicks: [Int: UInt64]
    /// The bench process's own user + system time, in microseconds.
    public var clientMicros: UInt64
    /// The whole machine's ticks (nil where /proc/stat cannot be read).
    public var machine: MachineTicks?

    public init(serverTicks: [Int: UInt64], clientMicros: UInt64, machine: MachineTicks? = nil) {
        self.serverTicks = serverTicks
        self.clientMicros = clientMicros
        self.machine = machine
    }

    /// Reads every pid's /proc/<pid>/stat, this process's rusage and /proc/stat now.
    public static func take(pids: [Int]) -> CPUSnapshot {
        var ticks: [Int: UInt64] = [:]
        for pid in pids { if let t = ProcessCPU.ticks(pid: pid) { ticks[pid] = t } }
        return CPUSnapshot(serverTicks: ticks, clientMicros: ProcessCPU.selfMicros(), machine: MachineTicks.now())
    }
}

/// CPU spent over one measured window (between two snapshots), per operation.
public struct CPUWindow: Sendable, Equatable {
    /// Sum over the servers of their CPU time in the window, in µs per operation; nil when no pid was
    /// given, when any pid could not be read at either end (its share would be missing from the sum),
    /// or when there were no operations.
    public var serverMicrosPerOp: Double?
    /// The bench process's CPU time in the window, in µs per operation; nil when there were no operations.
    public var clientMicrosPerOp: Double?
    /// Each server's CPU time in the window, in seconds, for the pids read at both ends.
    public var serverSeconds: [Int: Double]
    /// The bench process's CPU time in the window, in seconds.
    public var clientSeconds: Double
    /// Pids that could not be read at the start or the end (or whose counter went backwards: another process).
    public var unreadable: [Int]
    /// The whole machine's busy cores on average over the window (`MachineTicks.busyCores`); nil
    /// when /proc/stat was not read at both ends.
    public var machineBusyCores: Double?

    public init(from start: CPUSnapshot, to end: CPUSnapshot, pids: [Int], operations: UInt64, ticksPerSecond: Int,
                cores: Int = MachineTicks.onlineCores) {
        var seconds: [Int: Double] = [:]
        var totalTicks: UInt64 = 0
        var unreadable: [Int] = []
        for pid in pids {
            guard let a = start.serverTicks[pid], let b = end.serverTicks[pid], b >= a else { unreadable.append(pid); continue }
            totalTicks += b - a
            seconds[pid] = Double(b - a) / Double(ticksPerSecond)
        }
        let clientMicros = end.clientMicros >= start.clientMicros ? end.clientMicros - start.clientMicros : 0
        serverSeconds = seconds
        clientSeconds = Double(clientMicros) / 1e6
        self.unreadable = unreadable
        serverMicrosPerOp = pids.isEmpty || !unreadable.isEmpty
            ? nil : Self.microsPerOp(ticks: totalTicks, ticksPerSecond: ticksPerSecond, operations: operations)
        clientMicrosPerOp = Self.microsPerOp(micros: clientMicros, operations: operations)
        if let a = start.machine, let b = end.machine {
            machineBusyCores = MachineTicks.busyCores(from: a, to: b, cores: cores)
        } else {
            machineBusyCores = nil
        }
    }

    /// `ticks` clock ticks (of `ticksPerSecond` each second) spread over `operations`, in µs per operation.
    public static func microsPerOp(ticks: UInt64, ticksPerSecond: Int, operations: UInt64) -> Double? {
        guard operations > 0, ticksPerSecond > 0 else { return nil }
        return Double(ticks) * 1e6 / Double(ticksPerSecond) / Double(operations)
    }

    /// `micros` microseconds spread over `operations`, in µs per operation.
    public static func microsPerOp(micros: UInt64, operations: UInt64) -> Double? {
        guard operations > 0 else { return nil }
        return Double(micros) / Double(operations)
    }
}

/// A comma list of process ids as `--server-pids` and `--rss-pid` take it.
public enum PidList {
    /// At most this many pids.
    public static let limit = 64

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// The pids of "12,345, 678" in order; throws for an empty list, an item that is not a positive
    /// integer, a pid given twice (its CPU would count twice), or more than `limit` pids.
    public static func parse(_ raw: String) throws(Invalid) -> [Int] {
        let items = raw.split(separator: ",").map { $0.filter { $0 != " " && $0 != "\t" } }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw Invalid(description: "empty list") }
        guard items.count <= limit else { throw Invalid(description: "\(items.count) pids, at most \(limit)") }
        var pids: [Int] = []
        for item in items {
            guard item.allSatisfy(\.isASCII), let pid = Int(item), pid > 0, pid <= Int(Int32.max) else {
                throw Invalid(description: "\"\(item)\" is not a process id (a positive integer)")
            }
            guard !pids.contains(pid) else { throw Invalid(description: "pid \(pid) given twice") }
            pids.append(pid)
        }
        return pids
    }
}

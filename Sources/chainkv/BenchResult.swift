import Foundation

/// Figures of one operation type in one measured point.
struct BenchOpStats: Codable, Sendable {
    var count: UInt64
    var errors: UInt64
    /// get only: the key was not found (a preloaded key should always be).
    var missing: UInt64
    /// Successful operations per second over the point's measured window.
    var throughput: Double
    var p50Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var meanMs: Double
    var maxMs: Double
}

/// One measured point of a run (one combination of the sweep's parameters).
struct BenchPoint: Codable, Sendable {
    var label: String
    var tag: String
    var target: String
    var nodes: Int
    var clients: Int
    var pipeline: Int
    var entries: Int
    var keySize: Int
    var valueSize: Int
    var distribution: String
    var mix: String
    var warmupSeconds: Double
    var elapsedSeconds: Double
    /// Every successful operation per second, gets and puts together.
    var throughput: Double
    var operations: [String: BenchOpStats]
    var errorSamples: [String]
    /// VmRSS of the processes named by --rss-pid, read right after the point, in KiB.
    var serverRSSKiB: [String: Int]?
    var startedAt: String
    var host: String
    var cores: Int
    /// CPU time of the servers (utime + stime of the --server-pids processes, else the --rss-pid ones,
    /// summed) over the measured window, in µs per measured operation (gets and puts together, errors
    /// included). Nil when no pids were given, when one could not be read, and in files written before it.
    var serverCpuUsPerOp: Double? = nil
    /// The bench process's own CPU time (getrusage) over the same window, in µs per measured operation.
    var clientCpuUsPerOp: Double? = nil
    /// Each server's CPU seconds over the measured window, by pid.
    var serverCpuSeconds: [String: Double]? = nil
    /// The bench process's CPU seconds over the measured window.
    var clientCpuSeconds: Double? = nil
    /// The whole machine's busy cores on average over the measured window (from /proc/stat; 2.0 is
    /// both cores of a 2-core machine): near the core count, the run was bound by the machine's CPU;
    /// well above what the servers and the client used, something else was running.
    var machineBusyCores: Double? = nil
    /// Open loop (`--rate`): the requests a second offered over all the loops; nil for closed loops.
    var rate: Double? = nil

    /// Value of a sweep dimension, as the chart's x axis shows it.
    func dimension(_ name: String) -> String {
        switch name {
        case "clients": return "\(clients)"
        case "pipeline": return "\(pipeline)"
        case "entries": return "\(entries)"
        case "sizes", "size": return "\(keySize)/\(valueSize)"
        case "mix": return mix
        case "distribution": return distribution
        case "nodes": return "\(nodes)"
        case "inflight": return "\(clients * pipeline)"
        default: return "?"
        }
    }
}

struct BenchFile: Codable, Sendable {
    var tool = "chainkv bench"
    var version = 1
    var command: String
    var results: [BenchPoint]
}

enum BenchFormat {
    static func ms(_ v: Double) -> String {
        v >= 100 ? String(format: "%.0f", v) : v >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v)
    }

    static func rate(_ v: Double) -> String { String(format: "%.0f", v) }

    static func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
        if s.count >= n { return s }
        let fill = String(repeating: " ", count: n - s.count)
        return right ? fill + s : s + fill
    }

    static let columns: [(String, Int, Bool)] = [
        ("label", 12, false), ("nodes", 5, true), ("cli", 4, true), ("pipe", 4, true), ("entries", 8, true),
        ("key/val", 9, true), ("dist", 8, true), ("mix", 7, true), ("op", 4, true), ("ops", 8, true),
        ("errors", 6, true), ("ops/s", 8, true), ("p50 ms", 7, true), ("p99 ms", 7, true), ("p99.9 ms", 8, true),
        ("srv µs/op", 9, true), ("cli µs/op", 9, true),
    ]

    /// CPU µs per operation as the table and the report show it ("–" when not measured).
    static func cpu(_ v: Double?) -> String {
        guard let v else { return "–" }
        return v >= 100 ? String(format: "%.0f", v) : String(format: "%.1f", v)
    }

    static func tableHeader() -> String {
        columns.map { pad($0.0, $0.1, right: $0.2) }.joined(separator: " ")
    }

    static func tableRows(_ p: BenchPoint) -> [String] {
        opOrder(p).map { op in
            let s = p.operations[op]!
            let cells = [p.label, "\(p.nodes)", "\(p.clients)", "\(p.pipeline)", "\(p.entries)", "\(p.keySize)/\(p.valueSize)",
                         p.distribution, p.mix, op, "\(s.count)", "\(s.errors + s.missing)", rate(s.throughput),
                         ms(s.p50Ms), ms(s.p99Ms), ms(s.p999Ms), cpu(p.serverCpuUsPerOp), cpu(p.clientCpuUsPerOp)]
            return zip(cells, columns).map { pad($0, $1.1, right: $1.2) }.joined(separator: " ")
        }
    }

    static func opOrder(_ p: BenchPoint) -> [String] {
        ["get", "put"].filter { p.operations[$0] != nil }
    }

    static let csvHeader = "label,tag,target,nodes,clients,pipeline,entries,key_size,value_size,distribution,mix,op,count,errors,missing,throughput,p50_ms,p99_ms,p999_ms,mean_ms,max_ms,elapsed_s,rss_kib,server_cpu_us_per_op,client_cpu_us_per_op,machine_busy_cores,rate"

    static func csvRows(_ p: BenchPoint) -> [String] {
        let rss = p.serverRSSKiB.map { m in m.keys.sorted().map { k in "\(k)=\(m[k]!)" }.joined(separator: " ") } ?? ""
        return opOrder(p).map { op in
            let s = p.operations[op]!
            return [p.label, p.tag, p.target, "\(p.nodes)", "\(p.clients)", "\(p.pipeline)", "\(p.entries)", "\(p.keySize)",
                    "\(p.valueSize)", p.distribution, p.mix, op, "\(s.count)", "\(s.errors)", "\(s.missing)",
                    String(format: "%.1f", s.throughput), String(format: "%.3f", s.p50Ms), String(format: "%.3f", s.p99Ms),
                    String(format: "%.3f", s.p999Ms), String(format: "%.3f", s.meanMs), String(format: "%.3f", s.maxMs),
                    String(format: "%.3f", p.elapsedSeconds), rss,
                    p.serverCpuUsPerOp.map { String(format: "%.2f", $0) } ?? "",
                    p.clientCpuUsPerOp.map { String(format: "%.2f", $0) } ?? "",
                    p.machineBusyCores.map { String(format: "%.2f", $0) } ?? "",
                    p.rate.map { String(format: "%.0f", $0) } ?? ""].map(csvField).joined(separator: ",")
        }
    }

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func encode(_ file: BenchFile) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(file)) ?? Data()
    }

    /// Reads result files (a BenchFile, or a bare array of points).
    static func load(_ paths: [String]) throws -> [BenchPoint] {
        var all: [BenchPoint] = []
        for path in paths {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            if let f = try? JSONDecoder().decode(BenchFile.self, from: data) {
                all += f.results
            } else {
                all += try JSONDecoder().decode([BenchPoint].self, from: data)
            }
        }
        return all
    }
}

func benchStderr(_ s: String) {
    FileHandle.standardError.write(Data(s.utf8))
}

/// VmRSS of a process in KiB, from /proc/<pid>/status.
func benchResidentKiB(pid: Int) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
    }
    return nil
}

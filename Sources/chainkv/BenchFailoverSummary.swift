import Foundation

/// The failover benchmark's figures for one system, size and role: median and worst
/// unavailability over its kills, every individual value, and the errors the clients saw.
struct BenchFailoverSummary: Codable, Sendable {
    var system: String
    var servers: Int
    var role: String
    var kills: Int
    var writeMedianMs: Double
    var writeWorstMs: Double
    var readMedianMs: Double?
    var readWorstMs: Double?
    /// Client-observed errors per kill (writer and reader together).
    var errorsMedian: Double
    var errorsMax: Int
    /// Kills whose window never closed (the value is a lower bound) or whose cluster did not get whole again.
    var incomplete: Int
    var writeMs: [Double]
    var readMs: [Double]?
    var errors: [Int]

    init(system: String, servers: Int, role: String, kills: [BenchFailoverKill]) {
        self.system = system
        self.servers = servers
        self.role = role
        self.kills = kills.count
        writeMs = kills.map { $0.write.unavailableMs }
        let reads = kills.compactMap { $0.read?.unavailableMs }
        readMs = reads.isEmpty ? nil : reads
        errors = kills.map { $0.write.errors + ($0.read?.errors ?? 0) }
        writeMedianMs = Self.median(writeMs)
        writeWorstMs = writeMs.max() ?? 0
        readMedianMs = readMs.map(Self.median)
        readWorstMs = readMs?.max()
        errorsMedian = Self.median(errors.map(Double.init))
        errorsMax = errors.max() ?? 0
        incomplete = kills.filter { $0.write.open || ($0.read?.open ?? false) || $0.wholeAfterMs == nil }.count
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// One summary per (system, servers, role), in the order the kills happened.
    static func of(_ kills: [BenchFailoverKill]) -> [BenchFailoverSummary] {
        var order: [String] = []
        var groups: [String: [BenchFailoverKill]] = [:]
        for k in kills {
            let key = "\(k.system)|\(k.servers)|\(k.role)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(k)
        }
        return order.map { key in
            let g = groups[key]!
            return BenchFailoverSummary(system: g[0].system, servers: g[0].servers, role: g[0].role, kills: g)
        }
    }
}

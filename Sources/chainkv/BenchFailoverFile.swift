import Foundation

/// The failover benchmark's JSON result (failover.json): settings, per-role summaries, every kill.
struct BenchFailoverFile: Codable, Sendable {
    var tool = "chainkv bench failover"
    var command: String
    var startedAt: String
    var finishedAt: String?
    var durationSeconds: Double
    var host: String
    var cores: Int
    /// The git commit the binaries were built from, if the script said.
    var commit: String?
    var settings: Settings
    var summary: [BenchFailoverSummary]
    var kills: [BenchFailoverKill]
    /// What went wrong on the way (a role that could not be arranged, a cluster that did not form...).
    var problems: [String]

    struct Settings: Codable, Sendable {
        var killsPerRole: Int
        var pausedKills: Int
        var zookeeperKills: Int
        var chainSizes: [Int]
        var roles: [String]
        var keys: Int
        var valueSize: Int
        var settleSeconds: Double
        var portBase: Int
        /// The node configuration every server started with (id, port, data folder, ZooKeeper,
        /// cluster and expected members overridden; metrics off).
        var nodeConfig: [String: String]
        /// ChainKVClient.Options of the load's sessions (library defaults).
        var clientRequestTimeoutMs: Int64
        var clientConnectTimeoutMs: Int64
        var clientRetryBudgetMs: Int64
        /// Seconds without a success after which the load reopened a session.
        var reopenAfterSeconds: Double
        /// The ZooKeeper servers' configuration (zoo.cfg, without paths and peers).
        var zookeeperConfig: [String: String]
        var zookeeperSessionTimeoutMs: Int
    }

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}

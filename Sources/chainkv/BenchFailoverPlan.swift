import Foundation

/// What the phases of one failover run share: counts, load shape, waits and where things go.
struct BenchFailoverPlan: Sendable {
    var killsPerRole: Int
    var pausedKills: Int
    var zookeeperKills: Int
    var roles: [BenchFailoverRole]
    var keys: Int
    var valueSize: Int
    var seed: UInt64
    /// Seconds to wait after the cluster is whole again before the next kill.
    var settle: Double
    /// Longest wait from a kill until the load recovers (then the victim is restarted anyway).
    var recoveryTimeout: Double
    /// Longest wait from a restart until the cluster is whole again.
    var wholeTimeout: Double
    /// Longest wait for a fresh cluster to form (per server, and for the whole chain).
    var startTimeout: Double
    var reopenAfter: Double
    var cluster: BenchFailoverCluster.Setup
    /// Servers' folders: <folder>/n<size>-g<generation>/n<i>.
    var folder: URL

    func kills(for role: BenchFailoverRole) -> Int {
        role == .headPaused ? pausedKills : killsPerRole
    }

    var keySpace: BenchKeySpace { BenchKeySpace(size: 16, count: keys, seed: seed) }
    var values: BenchValuePool { BenchValuePool(size: valueSize, count: 16, seed: seed) }
}

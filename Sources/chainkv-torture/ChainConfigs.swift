import ChainCoordination
import ChainCore
import ChainWire

/// The chain configurations as the leader last wrote them in ZooKeeper: the only place that says
/// which members are synced (hold every committed write) and which run of each server is meant.
/// The damage fault reads them right before it strikes (`NemesisDisk.injectDamage`).
enum ChainConfigs {
    /// How long a read of the configurations may take before the fault is skipped.
    static let readTimeout: Duration = .seconds(3)

    /// Every chain's configuration by chain id (`ClusterLeader.soleChain` for the single chain);
    /// nil when ZooKeeper did not answer in time.
    static func read(connectString: String, cluster: String) async -> [String: ChainConfig]? {
        guard let paths = try? ZnodePaths(cluster: cluster),
              let zk = try? ZooKeeperClient(connectString: connectString, sessionTimeout: .seconds(10)) else { return nil }
        defer { Task { await zk.close() } }
        /// The configuration in `path`; nil when there is no such znode.
        func config(_ path: String) async throws -> ChainConfig? {
            do {
                return try ChainConfig.decode(try await zk.getData(path).data)
            } catch ZooKeeperError.noNode {
                return nil
            }
        }
        do {
            try await zk.waitConnected(timeout: readTimeout)
            var configs: [String: ChainConfig] = [:]
            configs[ClusterLeader.soleChain] = try await config(paths.chain)
            let ids: [String]
            do { ids = try await zk.children(paths.chains) } catch ZooKeeperError.noNode { ids = [] }
            for id in ids { configs[id] = try await config(paths.chain(id)) }
            return configs
        } catch {
            return nil
        }
    }

    /// Whether damaging `server`'s files leaves every chain it is named in with at least
    /// `othersMin` synced members other than it that act in that configuration's epoch (their
    /// status says so: a restarted run of a named server does not act in a configuration that
    /// names its previous run). Counting acting members, as before, let a chain of one synced
    /// member and joiners lose its only copy, and a status a second old could call the drawn
    /// server "outside" after it had become the chain's only member (torture seed 204).
    static func othersHoldTheData(of server: String, configs: [String: ChainConfig], statuses: [NodeStatus?], othersMin: Int) -> Bool {
        func acts(_ id: String, in chain: String, epoch: UInt64) -> Bool {
            statuses.contains { status in
                status?.id == id && status!.chainStates.contains {
                    $0.chain == chain && $0.epoch == epoch && $0.role != "outside" && $0.role != "lost"
                }
            }
        }
        for (chain, config) in configs where config.members.contains(server) {
            let syncedOthers = config.members.filter { $0 != server && !config.syncing.contains($0) }
            let acting = syncedOthers.filter { acts($0, in: chain, epoch: config.epoch) }
            if acting.count < othersMin { return false }
        }
        return true
    }
}

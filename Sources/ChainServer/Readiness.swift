import ChainCoordination
import ChainCore

/// `GET /readyz`: whether this server holds and serves its share of the data, from the chain
/// configurations it last read from ZooKeeper and the epochs its replica shells act in. The rules,
/// checked in this order (the README's "Health and readiness" states them too); the first that
/// fails is the reason given:
///
/// 1. the server is not stopping (`leave` ran);
/// 2. sharded: it has read the slot map;
/// 3. it has read a chain configuration that names it, as a member or in the chain's placement
///    (unsharded, the one chain's configuration names every server);
/// 4. for every chain whose configuration names it so, in chain order:
///    a. it is a member (a placed server that is not one is waiting to rejoin);
///    b. the configuration names this run of the server (`MemberInfo.incarnation`), not a previous one;
///    c. its replica acts in the configuration's epoch (the replica stores an epoch before it acts in it);
///    d. it is not syncing: the leader no longer counts it among the joiners that may lack writes
///       committed before they joined (`ChainConfig.syncing`, cleared once it holds them).
///
/// So a server in no chain (a sharded cluster's server beyond every placement, which joins no
/// chain until rebalancing exists) is not ready: it holds no data.
enum Readiness {
    /// nil when ready, else the reason (one line).
    /// - Parameter acting: per hosted chain, the epoch its replica acts in.
    static func reason(id: NodeID, incarnation: String, sharded: Bool, stopping: Bool, slotMapRead: Bool,
                       configs: [String: ChainConfig], acting: [String: UInt64]) -> String? {
        if stopping { return "stopping" }
        if sharded, !slotMapRead { return "no slot map read yet" }
        let named = configs.filter { _, c in c.members.contains(id) || (c.placement?.contains(id) ?? !sharded) }
        guard !named.isEmpty else {
            return configs.isEmpty ? "no chain configuration read yet" : "no chain configuration names this server"
        }
        for (chain, c) in named.sorted(by: { Leader.chainOrder($0.key, $1.key) }) {
            guard c.members.contains(id) else { return "chain \(chain): not a member (epoch \(c.epoch))" }
            guard c.incarnations[id] == incarnation else {
                return "chain \(chain): its configuration (epoch \(c.epoch)) names another run of this server"
            }
            let epoch = acting[chain] ?? 0
            guard epoch >= c.epoch else { return "chain \(chain): acting in epoch \(epoch), its configuration's is \(c.epoch)" }
            if c.syncing.contains(id) { return "chain \(chain): syncing (joined, still being caught up)" }
        }
        return nil
    }
}

extension ServerNode {
    /// `Readiness.reason` for this server now; on the loop.
    func unreadiness() -> String? {
        loop.preconditionInEventLoop()
        if let diskFull { return "disk full: \(diskFull)" }
        return Readiness.reason(id: config.id, incarnation: member.incarnation, sharded: config.sharded, stopping: leaving,
                                slotMapRead: slots != nil, configs: configs,
                                acting: chains.mapValues { $0.shell.core.view.epoch })
    }
}

import ChainCoordination
import ChainCore
import ChainWire
import NIOCore

/// What ZooKeeper tells a server, routed on its loop to the shells that act on it.
extension ServerNode {
    /// A chain configuration was read from the chain znode (every server watches it).
    func chainChanged(_ chain: ChainConfig, version: Int32) {
        loop.preconditionInEventLoop()
        context.addresses.learn(chain)
        let view = chain.view
        guard view.epoch > replica.core.view.epoch else { return }
        if view.members.contains(config.id), chain.incarnations[config.id] == nil {
            // Every configuration the leader writes names each member's run; one that does not
            // cannot tell this run from a previous one, so it is not acted on.
            logger.error("chain names this server without its run; waiting to be re-added", metadata: ["epoch": "\(view.epoch)"])
            return
        }
        if let named = chain.incarnations[config.id], named != member.incarnation {
            // The configuration means this server's previous run, whose disk may hold writes the
            // chain never committed. It waits until the leader re-adds this run by state transfer.
            logger.notice("chain names a previous run of this server; waiting to be re-added", metadata: [
                "epoch": "\(view.epoch)", "named": "\(named)", "this": "\(member.incarnation)",
            ])
            return
        }
        logger.notice("chain reconfigured", metadata: [
            "epoch": "\(view.epoch)", "chain": "\(view.members.joined(separator: " -> "))",
            "role": "\(view.role(of: config.id).rawValue)", "leader": "\(chain.leader)",
        ])
        replica.viewChanged(view)
        metrics.reconfigurations.increment()
    }

    func membersChanged(_ members: [MemberInfo]) {
        loop.preconditionInEventLoop()
        context.addresses.learn(members)
        logger.info("membership changed", metadata: ["members": "\(members.map(\.id).sorted(by: Leader.chainOrder).joined(separator: ","))"])
        leader.membersChanged(members)
    }

    func becameLeader(chain: (ChainConfig, version: Int32)?, live: [MemberInfo]) {
        loop.preconditionInEventLoop()
        guard !leader.isLeading else { return }
        context.addresses.learn(live)
        leader.elected(chain: chain, live: live)
    }

    /// ZooKeeper confirmed, with a round trip that started at `sentAtMs`, that this server still
    /// holds its member znode: reads are safe for a lease from then (see `LeaseTiming`).
    func renewLease(sentAtMs: UInt64) {
        replica.renewLease(until: leaseTiming.leaseEnd(sentAtMs: sentAtMs))
    }

    /// Before the ZooKeeper session closes on a graceful stop: reads end (the leader drops a
    /// member whose znode went with its session without waiting out a lease) and the leader's
    /// links close.
    func leave() {
        replica.revokeLease()
        leader.close()
    }
}

extension ChainConfig {
    /// The configuration as the core sees it.
    var view: ChainView {
        ChainView(epoch: epoch, members: members, incarnations: incarnations, syncing: Set(syncing).intersection(members))
    }
}

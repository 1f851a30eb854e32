import ChainCoordination
import ChainCore
import ChainWire
import NIOCore

/// What ZooKeeper tells a server, routed on its loop to the shells that act on it.
extension ServerNode {
    /// A chain configuration was read from its znode (every server watches every chain): the
    /// single `chain` znode unsharded (`ClusterLeader.soleChain`), `chains/<id>` sharded.
    func chainChanged(_ id: String, _ chain: ChainConfig, version: Int32) {
        loop.preconditionInEventLoop()
        context.addresses.learn(chain)
        configs[id] = chain
        // Placed here again: should a later placement exclude this server, its files go again.
        if chain.placement?.contains(config.id) == true { excludedChains.remove(id) }
        // A configuration that names this server opens the chain here; one that does not only
        // concerns a replica this server already holds (it is being dropped).
        guard chain.members.contains(config.id) else {
            if let hosted = chains[id] { apply(chain, to: hosted) }  // it is being dropped
            // Its replica moved to another server for good (the placement no longer names this
            // one): the file goes, also one left from before a restart (torture --grow seed 4203:
            // a server down while its replica moved kept a stale file). A failed server stays
            // placed and rejoins instead.
            if let placement = chain.placement, !placement.contains(config.id) { removeChain(id) }
            return
        }
        guard let hosted = hostedChain(id) else {
            // Named in a chain whose tables cannot be opened (disk full, out of file handles):
            // answering heartbeats while never acting in it would stall the chain for good.
            // Leave like a crash, so that the leader repairs every chain this server is in.
            logger.critical("a configuration names this server in a chain it cannot open; exiting", metadata: ["chain": "\(id)"])
            exitLikeACrash()
        }
        apply(chain, to: hosted)
    }

    /// Acts on a chain configuration in the chain's replica shell, if it is newer and means
    /// this run of the server.
    func apply(_ chain: ChainConfig, to hosted: HostedChain) {
        let replica = hosted.shell
        let view = chain.view
        guard view.epoch > replica.core.view.epoch else { return }
        if view.members.contains(config.id), chain.incarnations[config.id] == nil {
            // Every configuration the leader writes names each member's run; one that does not
            // cannot tell this run from a previous one, so it is not acted on.
            replica.logger.error("chain names this server without its run; waiting to be re-added", metadata: ["epoch": "\(view.epoch)"])
            return
        }
        if replica.dataLost, view.members.contains(config.id) {
            // Named without a state transfer while its database is a stand-in for a damaged one
            // (the leader counted a previous report): serving it would serve an empty chain.
            replica.logger.error("chain names this server, but its damaged database was moved aside and no snapshot has arrived; not acting on it, waiting to be re-added by state transfer", metadata: ["epoch": "\(view.epoch)"])
            return
        }
        if let named = chain.incarnations[config.id], named != member.incarnation {
            // The configuration means this server's previous run, whose disk may hold writes the
            // chain never committed. It waits until the leader re-adds this run by state transfer.
            replica.logger.notice("chain names a previous run of this server; waiting to be re-added", metadata: [
                "epoch": "\(view.epoch)", "named": "\(named)", "this": "\(member.incarnation)",
            ])
            return
        }
        replica.logger.notice("chain reconfigured", metadata: [
            "epoch": "\(view.epoch)", "chain": "\(view.members.joined(separator: " -> "))",
            "role": "\(view.role(of: config.id).rawValue)", "leader": "\(chain.leader)",
        ])
        replica.viewChanged(view)
        metrics.reconfigurations.increment()
    }

    /// The slot map of a sharded cluster was read (at start and after every write).
    func slotsChanged(_ map: SlotMap) {
        loop.preconditionInEventLoop()
        guard map.version >= slots?.version ?? 0 else { return }
        slots = map
        logger.info("slot map read", metadata: ["mapVersion": "\(map.version)", "chains": "\(map.counts.count)"])
    }

    /// A listing of the members; one older than a listing already applied is dropped
    /// (`MemberListOrder`).
    func membersChanged(_ members: [MemberInfo], version: Int64) {
        loop.preconditionInEventLoop()
        guard memberListOrder.accept(version) else {
            logger.info("an older member list arrived late; ignored", metadata: [
                "members": "\(members.map(\.id).sorted(by: Leader.chainOrder).joined(separator: ","))",
                "version": "\(version)", "applied": "\(memberListOrder.applied)"])
            return
        }
        context.addresses.learn(members)
        logger.info("membership changed", metadata: ["members": "\(members.map(\.id).sorted(by: Leader.chainOrder).joined(separator: ","))"])
        leader.membersChanged(members)
    }

    func becameLeader(chains stored: [String: (ChainConfig, version: Int32)], slots: (SlotMap, version: Int32)?, live: [MemberInfo],
                      liveVersion: Int64 = -1, decommissioned: Set<String> = []) {
        loop.preconditionInEventLoop()
        guard !leader.isLeading else { return }
        _ = memberListOrder.accept(liveVersion)
        context.addresses.learn(live)
        for (config, _) in stored.values { context.addresses.learn(config) }
        leader.elected(chains: stored, slots: slots, live: live, decommissioned: decommissioned)
    }

    /// ZooKeeper confirmed, with a round trip that started at `sentAtMs`, that this server still
    /// holds its member znode: reads are safe for a lease from then (see `LeaseTiming`).
    func renewLease(sentAtMs: UInt64) {
        // A revoked lease stays revoked, for chains opened later too.
        guard !leaving else { return }
        let until = leaseTiming.leaseEnd(sentAtMs: sentAtMs)
        leaseUntil = until
        for hosted in chains.values { hosted.shell.renewLease(until: until) }
    }

    /// Before the ZooKeeper session closes on a graceful stop: reads end (the leader drops a
    /// member whose znode went with its session without waiting out a lease) and the leader's
    /// links close.
    func leave() {
        leaving = true
        leaseUntil = nil
        for hosted in chains.values { hosted.shell.revokeLease() }
        leader.close()
    }
}

extension ChainConfig {
    /// The configuration as the core sees it.
    var view: ChainView {
        ChainView(epoch: epoch, members: members, incarnations: incarnations, syncing: Set(syncing).intersection(members),
                  handoff: handoff.flatMap { members.contains($0) ? $0 : nil })
    }
}

import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ChainCore
import ChainWire
import Logging
import NIOCore

/// One chain this server holds a replica of: its replica shell, snapshot receiver and database.
struct HostedChain {
    let id: String
    let shell: ReplicaShell
    let snapshots: SnapshotReceiver
    let database: ChainDatabase
}

/// The chains a server hosts. Unsharded, the one chain is opened at start; sharded, a chain is
/// opened when a configuration names this server or a snapshot of it arrives, and only for a
/// chain the slot map or ZooKeeper names (a peer cannot make a server create files at will).
extension ServerNode {
    /// Makes the shells of chain `id` around its open database.
    func host(_ id: String, database: ChainDatabase) -> HostedChain {
        var context = self.context
        if config.sharded { context = context.with(chain: id) }
        let outbound = security.outbound
        let shell = ReplicaShell(id: config.id, chain: config.sharded ? id : nil, context: context, storage: database.storage,
                                 lastSeq: database.lastSeq, durableEpoch: database.epoch, requests: database.requests,
                                 leaseMs: leaseTiming.leaseMs,
                                 connectSuccessor: { node, shell in
                                     SuccessorLink(node: node, context: context, security: outbound, delegate: shell)
                                 },
                                 fail: { exitLikeACrash() })
        shell.dataLost = database.needsTransfer
        return HostedChain(id: id, shell: shell, snapshots: SnapshotReceiver(replica: shell), database: database)
    }

    /// Chain `id`, opened now if this sharded server does not host it yet and the cluster has
    /// such a chain; nil if it has none, or its database cannot be opened.
    func hostedChain(_ id: String) -> HostedChain? {
        if let hosted = chains[id] { return hosted }
        guard config.sharded, configs[id] != nil || slots?.counts[id] != nil, !removingChains.contains(id) else { return nil }
        let hosted: HostedChain
        do {
            hosted = host(id, database: try openDatabase(id))
        } catch {
            logger.error("cannot open the database of a chain", metadata: ["chain": "\(id)", "error": "\(error)"])
            return nil
        }
        chains[id] = hosted
        if leaving {
            hosted.shell.revokeLease()  // a stopping server serves no reads, in any chain
        } else if let leaseUntil {
            hosted.shell.renewLease(until: leaseUntil)
        }
        logger.notice("hosting a replica of chain \(id)")
        // The chain as last read: a joiner's snapshot must be of the epoch it knows.
        if let known = configs[id] { apply(known, to: hosted) }
        return hosted
    }

    /// Closes chain `id`'s replica here, if it is open, and deletes its database (its replica
    /// moved to another server); the files go off the loop, once the committer has stopped.
    /// Called for every configuration whose placement excludes this server: the file system is
    /// looked at on the first only (`excludedChains`), an open replica is closed on any.
    func removeChain(_ id: String) {
        guard config.sharded, !removingChains.contains(id) else { return }
        let path = ChainDatabase.path(dataDir: config.dataDir, chain: id)
        let hosted = chains.removeValue(forKey: id)
        // Once excluded, no file of the chain appears here without the chain being opened (then
        // `hosted` is set): a file left from before a restart is found at the first sighting.
        let firstSighting = excludedChains.insert(id).inserted
        guard hosted != nil || (firstSighting && FileManager.default.fileExists(atPath: path)) else { return }
        hosted?.shell.close()
        hosted?.shell.revokeLease()
        removingChains.insert(id)
        let (database, logger, gate) = (hosted?.database, self.logger, self.gate)
        logger.notice("chain \(id) moved off this server: deleting its database", metadata: ["path": "\(path)"])
        Task.detached {
            database?.stop()
            for suffix in ["", "-wal", "-shm"] {
                let file = path + suffix
                if unlink(file) != 0, errno != ENOENT {
                    logger.warning("cannot delete a moved chain's file", metadata: ["path": "\(file)", "errno": "\(errno)"])
                }
            }
            gate.execute { self.removingChains.remove(id) }
        }
    }

    /// Whether the last configuration read of chain `id` names this server.
    func named(in id: String) -> Bool {
        configs[id]?.members.contains(config.id) ?? false
    }

    // MARK: Peer links

    /// A predecessor's `hello` for chain `chain`; false if this server neither hosts it nor is
    /// named in it (the predecessor redials once this server has read the configuration).
    func predecessorHello(from node: NodeID, chain: String, channel: Channel) -> Bool {
        guard let hosted = chains[chain] ?? (named(in: chain) ? hostedChain(chain) : nil) else { return false }
        hosted.shell.predecessorHello(from: node, channel: channel)
        return true
    }

    func predecessorClosed(_ node: NodeID, chain: String, channel: Channel) {
        chains[chain]?.shell.predecessorClosed(node, channel: channel)
    }

    // MARK: What clients and operators ask

    /// The slot map with every chain's members, head first. Unsharded: one chain owns every
    /// slot, as this server acts in it (version 0).
    func shardMap() -> ShardMap {
        if !config.sharded {
            let view = chains[ClusterLeader.soleChain]?.shell.core.view ?? ChainView(epoch: 0, members: [])
            return ShardMap(version: 0, chains: [.init(id: ClusterLeader.soleChain, slots: [0...(SlotMap.slotCount - 1)],
                                                       chain: context.addresses.chainInfo(view))])
        }
        guard let slots else { return ShardMap(version: 0, chains: []) }
        return ShardMap(slots) { id in
            self.configs[id].map { c in
                ChainInfo(epoch: c.epoch, members: c.members.map { self.context.addresses[$0] ?? NodeAddress(id: $0, host: "unknown", port: 1) })
            }
        }
    }

    /// The role a server reports for a chain whose damaged database it moved aside, until a
    /// snapshot arrives: the leader never counts it as holding the chain's writes.
    static let dataLostRole = "lost"

    /// The role reported for `shell`'s chain.
    private func reportedRole(_ shell: ReplicaShell) -> String {
        diskFull != nil ? Self.diskFullRole : shell.dataLost ? Self.dataLostRole : shell.core.role.rawValue
    }

    /// The role a server reports while its disk is full (it left its chains).
    static let diskFullRole = "disk full"

    func status() -> NodeStatus {
        let hosted = chains.keys.sorted(by: Leader.chainOrder).compactMap { chains[$0] }
        let first = hosted.first?.shell.core
        var status = NodeStatus(id: config.id, epoch: first?.view.epoch ?? 0, role: hosted.first.map { reportedRole($0.shell) } ?? (diskFull != nil ? Self.diskFullRole : "outside"),
                                received: first?.received ?? 0, durable: first?.durable ?? 0, stable: first?.stable ?? 0,
                                uptimeMs: context.nowMs, isLeader: leader.isLeading, inflight: UInt32(first?.inflightCount ?? 0))
        if config.sharded {
            status.chains = hosted.map { h in
                let core = h.shell.core
                return ChainStatus(chain: h.id, epoch: core.view.epoch, role: reportedRole(h.shell), received: core.received,
                                   durable: core.durable, stable: core.stable, inflight: UInt32(core.inflightCount))
            }
        }
        return status
    }

    /// Closes every chain's successor link and hands queued updates to storage (at stop).
    /// Returns the databases, to stop once the loop is down.
    func closeChains() -> [ChainDatabase] {
        for hosted in chains.values { hosted.shell.close() }
        return chains.values.map(\.database)
    }
}

import ChainCore

/// Watches of a sharded cluster: the slot map, and every chain it names. Every server watches
/// every chain (there are at most `ClusterLeader.chainsMax`): it routes clients and learns its
/// peers' addresses from all of them, not only from the chains it serves.
extension Coordinator {
    /// Starts delivering `.slotsChanged` and `.shardChanged`: the current state now (what exists),
    /// then every write, including the creation of the slots znode.
    public func watchShards() async throws {
        watchingSlots = true
        // The map first: a server must read a map that records a slot move before any chain
        // configuration written after it (SlotMove); event handling keeps that order later on.
        try await serialized(.slots) { try await self.refreshSlots() }
        try await serialized(.chainList) { try await self.refreshChainList() }
    }

    /// Watches every chain znode, also of chains that own no slot yet (a new chain formed for a
    /// new server, or one whose first move was dropped): a server in such a chain must follow its
    /// configuration (torture seed 4103: a restarted member never read it, and the chain stalled).
    func refreshChainList() async throws {
        let ids: [String]
        do {
            ids = try await client.children(paths.chains, watch: true)
        } catch ZooKeeperError.noNode {
            // No chain yet: a watch on its creation, then list it.
            if try await client.exists(paths.chains, watch: true) == nil { return }
            ids = try await client.children(paths.chains, watch: true)
        }
        for id in ids.sorted() where !watchedShards.contains(id) {
            guard (try? ZnodePaths.validateName(id)) != nil, watchedShards.count < ClusterLeader.chainsMax else { continue }
            watchedShards.insert(id)
            await recheck(.shard(id))
        }
    }

    func refreshSlots() async throws {
        guard let (data, stat) = try await watchedRead(paths.slots) else { return }
        let version = ZnodeVersion(createdZxid: stat.createdZxid, version: stat.version)
        guard version != lastSlotsEmitted else { return }
        lastSlotsEmitted = version
        let map: SlotMap
        do {
            map = try SlotsZnode.decode(data)
        } catch {
            logger.error("slots znode holds invalid data; waiting for the next write", metadata: [
                "version": "\(stat.version)", "error": "\(error)",
            ])
            return
        }
        emit(.slotsChanged(map, version: stat.version))
        // A new chain owns no slot until the first move into it: watched from that move's map on.
        let named = Set(map.counts.keys).union([map.moving?.to].compactMap { $0 })
        for id in named.sorted() where !watchedShards.contains(id) {
            watchedShards.insert(id)
            await recheck(.shard(id))
        }
    }

    func refreshShard(_ id: String) async throws {
        guard let (data, stat) = try await watchedRead(paths.chain(id)) else { return }
        let version = ZnodeVersion(createdZxid: stat.createdZxid, version: stat.version)
        guard version != lastShardEmitted[id] else { return }
        lastShardEmitted[id] = version
        do {
            emit(.shardChanged(id: id, try ChainConfig.decode(data), version: stat.version))
        } catch {
            logger.error("chain znode holds invalid data; waiting for the next write", metadata: [
                "chain": "\(id)", "version": "\(stat.version)", "error": "\(error)",
            ])
        }
    }

    /// Every chain's configuration with its version, by id (for a leader taking over).
    public func readShards() async throws -> [String: (ChainConfig, version: Int32)] {
        var result: [String: (ChainConfig, version: Int32)] = [:]
        for id in try await chainIDs() {
            if let chain = try await readChain(id: id) { result[id] = chain }
        }
        return result
    }
}

import ChainCore

/// The znodes of a sharded cluster (several chains over one set of servers): `chains/<id>`, one
/// chain configuration each, and `slots`, which chain owns each hash slot. Written by the leader
/// with the same version-conditioned writes as the single `chain` znode, so a deposed leader's
/// writes fail here too.
extension Coordinator {
    /// The slot map and its znode version, or nil before a leader wrote one.
    public func readSlots() async throws -> (SlotMap, version: Int32)? {
        try await readVersioned(paths.slots, SlotsZnode.decode)
    }

    /// Writes the slot map if its znode still has `expectedVersion` (nil: create it).
    @discardableResult
    public func writeSlots(_ map: SlotMap, expectedVersion: Int32?) async throws -> Int32 {
        let version = try await writeVersioned(paths.slots, parent: paths.root, data: try SlotsZnode(map).encoded(),
                                               expectedVersion: expectedVersion)
        logger.info("wrote slots", metadata: ["mapVersion": "\(map.version)", "chains": "\(map.counts.count)", "version": "\(version)"])
        return version
    }

    /// The configuration of chain `id` and its znode version, or nil if there is no such chain.
    public func readChain(id: String) async throws -> (ChainConfig, version: Int32)? {
        try ZnodePaths.validateName(id)
        return try await readVersioned(paths.chain(id), ChainConfig.decode)
    }

    /// Writes chain `id`'s configuration if its znode still has `expectedVersion` (nil: create it).
    @discardableResult
    public func writeChain(id: String, _ config: ChainConfig, expectedVersion: Int32?) async throws -> Int32 {
        try ZnodePaths.validateName(id)
        let version = try await writeVersioned(paths.chain(id), parent: paths.chains, data: try config.encoded(),
                                               expectedVersion: expectedVersion)
        logger.info("wrote chain", metadata: ["chain": "\(id)", "epoch": "\(config.epoch)", "members": "\(config.members)",
                                              "version": "\(version)"])
        return version
    }

    /// The ids of the chains that have a znode, sorted.
    public func chainIDs() async throws -> [String] {
        do {
            return try await withReconnect { try await self.client.children(self.paths.chains) }.sorted()
        } catch ZooKeeperError.noNode {
            return []
        }
    }
}

extension Coordinator {
    /// Chain `id`'s configuration as ZooKeeper's leader holds it now: synced first, so that it is
    /// no older than any write completed before this call (a plain read may lag on a follower).
    public func readChainSynced(id: String) async throws -> ChainConfig? {
        try ZnodePaths.validateName(id)
        try await withReconnect { try await self.client.sync(self.paths.chain(id)) }
        return try await readChain(id: id)?.0
    }
}

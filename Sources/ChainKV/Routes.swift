internal import ChainCore
internal import ChainWire

/// Where a client sends each key: the slot map and each chain's members, head first, merged from
/// the servers' answers to `getSlots` (the newest slot map, and for each chain the answer with
/// the newest epoch: a server outside a chain may have read its configuration a little later).
struct Routes: Sendable {
    let map: SlotMap
    /// Every chain's members, head first, by chain id.
    let chains: [String: ChainInfo]

    /// Every server any chain names, for the next discovery.
    var servers: [NodeAddress] {
        var seen = Set<String>()
        return chains.keys.sorted().flatMap { chains[$0]!.members }.filter { seen.insert($0.hostPort).inserted }
    }

    /// Merges answers: the newest map wins; each chain keeps the member list with the newest
    /// epoch. nil if no answer holds a complete map.
    static func merge(_ answers: [ShardMap]) -> Routes? {
        var best: (ShardMap, SlotMap)?
        for answer in answers {
            guard let map = answer.slotMap, !answer.chains.isEmpty else { continue }
            if best == nil || map.version > best!.1.version { best = (answer, map) }
        }
        guard let (_, map) = best else { return nil }
        var chains: [String: ChainInfo] = [:]
        for answer in answers {
            for shard in answer.chains where map.counts[shard.id] != nil {
                if shard.chain.epoch > chains[shard.id]?.epoch ?? 0 || chains[shard.id] == nil { chains[shard.id] = shard.chain }
            }
        }
        return Routes(map: map, chains: chains)
    }

    /// Whether every chain of the map has a head: discovery may stop waiting for more answers.
    var complete: Bool {
        map.counts.keys.allSatisfy { chains[$0]?.head != nil }
    }
}

/// Growth and rebalancing of a sharded cluster, once it is formed.
///
/// **Growth.** With `chains: 0` (one chain per server), a live server that no chain's placement
/// names is a new server: the leader forms a new chain headed by it, its other replicas on the
/// servers holding the fewest, so heads stay one per server. Existing chains keep their members.
///
/// **Replicas follow.** Once the slots are spread, while one server holds two replicas more
/// than another (a live server no placement names holds none: with a fixed `chains` count that
/// is how a new server gets replicas), one replica moves from the most loaded to the least
/// loaded server: the chain's
/// placement names the new server in its place, which joins by state transfer; the old one
/// leaves once the new one holds every committed update (`Leader.dropUnplaced`). Heads stay.
///
/// **Slots follow chains.** Every chain should own the share of the slots `SlotMap.even` gives
/// it. While one owns more, the leader moves up to `SlotMove.slotsMax` of its slots at a time to
/// the chain furthest below its share:
/// 1. write the map with the move recorded (`SlotMove`): servers stop serving those slots;
/// 2. `copySlots`: the recipient's head purges what it holds of them, the donor's head (once it
///    has seen that map, drained its writes of them, and confirmed in ZooKeeper that it still
///    heads the donor chain) writes every key of them through the recipient's chain;
/// 3. `slotsCopied`: write the map giving them to the recipient; then `dropSlots` at the donor.
/// A failed copy, or a move found in the map at election (its leader ended part way), is
/// dropped with a map that leaves the slots with the donor. Only one move runs at a time, and
/// only while every chain is settled (no repair, join or handoff under way).
extension ClusterLeader {
    /// Pause before a failed move is tried again.
    public static let moveRetryTicks: UInt64 = 20

    mutating func rebalance(_ slots: SlotMap, _ actions: inout [ClusterLeaderAction]) {
        if slots.moving != nil {
            if let copy, copy.version == slots.version {
                if copy.done { writeSlots(slots.ending(done: true), &actions) }
                return  // the copy is under way
            }
            // Not this core's move (a previous leader's), or its copy failed: the donor keeps them.
            writeSlots(slots.ending(done: false), &actions)
            return
        }
        guard chains.values.allSatisfy(settled) else { return }
        if evacuate(&actions) || grow(&actions) { return }
        guard let move = nextMove(slots) else {
            moveReplica(&actions)
            return
        }
        guard now >= moveNotBefore, let map = slots.starting(move) else { return }
        copy = (map.version, false)
        writeSlots(map, &actions)
    }

    /// A move whose copy waits on `node` (the head of its donor or recipient chain), which stopped
    /// answering, is dropped rather than waited for: its slots are served by no chain meanwhile.
    /// A copy still running is harmless: the recipient takes imports only while the map moves
    /// the slots to it, and what it took is purged before any later import.
    mutating func abandonCopy(ifAsking node: NodeID) {
        guard let copy, !copy.done, let move = slots?.moving, slots?.version == copy.version,
              chains[move.from]?.chain?.head == node || chains[move.to]?.chain?.head == node else { return }
        self.copy = nil
        moveNotBefore = now + Self.moveRetryTicks
    }

    /// Emits what a slot map just written asks for: the copy of a move it records, or the
    /// cleanup at the donor of the move it completes.
    mutating func movesWritten(previous: SlotMap?, _ map: SlotMap, _ actions: inout [ClusterLeaderAction]) {
        if let move = map.moving, copy?.version == map.version {
            actions.append(.copySlots(move, mapVersion: map.version))
        } else if map.moving == nil, let ended = previous?.moving, let copy {
            self.copy = nil
            if copy.done, copy.version == previous?.version, map.owners[ended.slots[0]] == ended.to {
                actions.append(.dropSlots(ended, mapVersion: map.version))
            }
        }
    }

    /// A chain is settled when it runs exactly on its placement, in order, nothing pending.
    private func settled(_ core: Leader) -> Bool {
        guard let chain = core.chain, !core.isWriting, core.transfer == nil, chain.syncing.isEmpty, chain.handoff == nil else {
            return false
        }
        return core.placement.map { $0 == chain.members } ?? true
    }

    /// Forms a chain for a live server no placement names; true if it did.
    private mutating func grow(_ actions: inout [ClusterLeaderAction]) -> Bool {
        guard config.chains == 0, chains.count < Self.chainsMax else { return false }
        let placements = chains.values.compactMap(\.placement)
        let placed = Set(placements.flatMap { $0 })
        let healthy = live.keys.filter { !suspected.contains($0) && !decommissioned.contains($0) }
        guard let newcomer = healthy.filter({ !placed.contains($0) }).sorted(by: Leader.chainOrder).first else { return false }
        let load = replicaLoad()
        let others = healthy.filter { placed.contains($0) }.sorted { a, b in
            let (la, lb) = (load[a] ?? 0, load[b] ?? 0)
            return la != lb ? la < lb : Leader.chainOrder(a, b)
        }
        let members = [newcomer] + others.prefix(max(0, config.replicas - 1))
        let id = (0...).lazy.map(Self.chainID).first { chains[$0] == nil }!
        start(id, placement: members, stored: nil, &actions)
        return true
    }

    /// Moves a replica off a decommissioned server (one at a time), to the server holding the
    /// fewest replicas (for a head, heading the fewest chains) that the chain is not on; true if
    /// it did. Works for any `chains` setting, and for a decommissioned server that is down.
    private mutating func evacuate(_ actions: inout [ClusterLeaderAction]) -> Bool {
        guard !decommissioned.isEmpty, config.sharded else { return false }
        let load = replicaLoad()
        var heads: [NodeID: Int] = [:]
        for head in chains.values.compactMap({ $0.placement?.first }) { heads[head, default: 0] += 1 }
        let healthy = live.keys.filter { !suspected.contains($0) && !decommissioned.contains($0) }
        for id in chains.keys.sorted(by: Leader.chainOrder) {
            guard let placement = chains[id]?.placement, let index = placement.firstIndex(where: decommissioned.contains) else { continue }
            let key: (NodeID) -> (Int, Int) = { index == 0 ? (heads[$0] ?? 0, load[$0] ?? 0) : (load[$0] ?? 0, 0) }
            let candidates = healthy.filter { !placement.contains($0) }.sorted { a, b in
                key(a) != key(b) ? key(a) < key(b) : Leader.chainOrder(a, b)
            }
            guard let replacement = candidates.first else { continue }  // nowhere to go: it stays
            var moved = placement
            moved[index] = replacement
            one(id, .placementChanged(moved), &actions)
            return true
        }
        return false
    }

    /// Moves one replica from the server holding the most to the one holding the fewest, in a
    /// chain the first serves but does not head and the second is not in; true if it did.
    @discardableResult
    private mutating func moveReplica(_ actions: inout [ClusterLeaderAction]) -> Bool {
        var load = replicaLoad()
        // Live servers no placement names hold nothing yet: with `chains: 0` growth gave each a
        // chain already; with a fixed count, this is where they get replicas.
        for node in live.keys where load[node] == nil && !decommissioned.contains(node) { load[node] = 0 }
        let healthy = load.keys.filter { live[$0] != nil && !suspected.contains($0) && !decommissioned.contains($0) }
        let byLoad = healthy.sorted { a, b in load[a]! != load[b]! ? load[a]! < load[b]! : Leader.chainOrder(a, b) }
        guard let least = byLoad.first, let most = byLoad.last, load[most]! - load[least]! > 1 else { return false }
        for id in chains.keys.sorted(by: Leader.chainOrder) {
            guard let placement = chains[id]?.placement, let index = placement.firstIndex(of: most), index > 0,
                  !placement.contains(least) else { continue }
            var moved = placement
            moved[index] = least
            one(id, .placementChanged(moved), &actions)
            return true
        }
        return false
    }

    /// How many replicas each server holds, by the chains' placements (the servers no placement
    /// names are absent): what growth, evacuation and replica moves balance.
    private func replicaLoad() -> [NodeID: Int] {
        var load: [NodeID: Int] = [:]
        for node in chains.values.compactMap(\.placement).joined() { load[node, default: 0] += 1 }
        return load
    }

    /// The next move towards every chain owning its even share: from the chain furthest over its
    /// share to the one furthest under it, its highest slots first.
    private func nextMove(_ slots: SlotMap) -> SlotMove? {
        let order = chains.keys.sorted(by: Leader.chainOrder)
        guard !order.isEmpty else { return nil }
        let share = SlotMap.even(chains: order).counts
        let owned = slots.counts
        let excess = order.map { ($0, (owned[$0] ?? 0) - (share[$0] ?? 0)) }
        guard let donor = excess.max(by: { $0.1 < $1.1 }), donor.1 > 0,
              let recipient = excess.min(by: { $0.1 < $1.1 }), recipient.1 < 0 else { return nil }
        let count = min(donor.1, -recipient.1, SlotMove.slotsMax)
        let mine = slots.owners.indices.filter { slots.owners[$0] == donor.0 }
        return SlotMove(slots: Array(mine.suffix(count)), from: donor.0, to: recipient.0)
    }
}

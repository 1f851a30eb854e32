/// The leader's moves that keep a placed chain as placed: a member no longer placed leaves, and
/// a chain whose servers rejoined out of order is put back in placement order.
extension Leader {
    /// A member the placement no longer names (its replica moved to another server) leaves once
    /// every placed server is a member holding every committed update. Never the head: a head
    /// serves reads under a lease, and one dropped while it runs could answer them after the next
    /// head took a write; `headHandoff` first moves it behind the placed members.
    mutating func dropUnplaced(_ chain: ChainView) -> [LeaderAction]? {
        guard let placement, chain.syncing.isEmpty, transfer == nil, ready == nil, placement.allSatisfy(chain.members.contains),
              let extra = chain.members.first(where: { !placement.contains($0) && $0 != chain.head }) else { return nil }
        return write(ChainView(epoch: chain.epoch + 1, members: chain.members.filter { $0 != extra }), expected: chainVersion)
    }

    /// A placed chain whose servers rejoined out of order (at the tail, after a failure) is put
    /// back in placement order, so that heads (and middles and tails) stay spread as placed:
    /// first a configuration with `handoff` set (to the placed head),
    /// in which the head sequences no new writes; once every member reports the same updates, all
    /// durable, nothing is in flight and any order of the members is a valid chain, so the next
    /// configuration puts them in placement order. Any other decision (a failure, a join) writes a
    /// configuration without `handoff`, which ends a drain that has not finished.
    mutating func headHandoff(_ chain: ChainView) -> [LeaderAction]? {
        guard let placement, let wanted = placement.first, Set(placement).isSubset(of: chain.members) else { return nil }
        // Members the placement no longer names stay, behind the placed ones, until `dropUnplaced`.
        let order = placement + chain.members.filter { !placement.contains($0) }
        guard chain.members != order, !links.droppedRecently(now: now),
              chain.syncing.isEmpty, transfer == nil, ready == nil,
              chain.members.allSatisfy({ live[$0] != nil && !suspected.contains($0) && fencing[$0] == nil }) else { return nil }
        // Every member answered in this configuration: a drain only starts on a running chain.
        let reports = chain.members.compactMap { progress[$0] }.filter { $0.epoch >= chain.epoch }
        guard reports.count == chain.members.count else { return nil }
        guard chain.handoff != nil else {
            var draining = chain
            draining.epoch += 1
            draining.handoff = wanted
            return write(draining, expected: chainVersion)
        }
        guard let held = reports.first?.received,
              reports.allSatisfy({ $0.received == held && $0.durable == held }) else { return [] }
        return write(ChainView(epoch: chain.epoch + 1, members: order, incarnations: chain.incarnations), expected: chainVersion)
    }
}

/// When a syncing member (a joiner) holds every committed update and may count as synced.
extension Leader {
    /// Syncing members that now hold every update committed before they joined.
    ///
    /// A member's target is the `received` of the closest synced member upstream of it (the head
    /// at the farthest), from that member's first report in a configuration that names the
    /// syncing one. Why that bounds every update committed without the syncing member's
    /// acknowledgement: such an update commits through a `stable` that a member upstream of it
    /// carried over from the configuration before (`Replica.onViewChanged`), so it was on that
    /// member before the member moved to the configuration that names the joiner. It reached that
    /// member through every member before it, the closest synced one included (or through no
    /// other, when it is that one), and so before that member moved and reported. Synced members
    /// form a prefix of the chain and joins only append, so the order held then too.
    ///
    /// Not that member's `durable`: an update it had received but not yet written could commit
    /// through a carried-over `stable` of a syncing member between them, a second joiner never
    /// holding it (the review of this change found the sequence:
    /// `LeaderTests.testACarriedOverAckCannotCommitPastTheTarget`). Not the head's `received`, as
    /// before: that counts updates still in flight, which a member stalled upstream (cut off from
    /// ZooKeeper, still in an older epoch) never passes on, so the joiners behind it stayed
    /// syncing for good, and when the synced members failed the chain restarted from a single one
    /// (torture seed 204). Nor a syncing member's position: it may lack updates committed before
    /// its own join, which its successor then lacks too.
    mutating func caughtUpMembers(of chain: ChainView) -> Set<NodeID>? {
        guard !chain.syncing.isEmpty else { return nil }
        syncTargets = syncTargets.filter { chain.syncing.contains($0.key) }
        for (index, node) in chain.members.enumerated() where chain.syncing.contains(node) && syncTargets[node] == nil {
            guard let holder = chain.members[..<index].last(where: { !chain.syncing.contains($0) }),
                  let p = progress[holder], p.epoch >= chain.epoch else { continue }
            syncTargets[node] = p.received
        }
        let reached = chain.members.lastIndex { node in
            // The member's report must come from a configuration that names it: before its
            // snapshot it may report a stale database with any sequence number.
            guard chain.syncing.contains(node), let target = syncTargets[node], let p = progress[node],
                  p.epoch >= chain.epoch else { return false }
            return p.durable >= target
        }
        guard let reached else { return [] }
        // Updates reach a member only through every member before it, so members upstream of a
        // caught-up one hold at least as much, whatever their own last report said.
        return chain.syncing.intersection(chain.members[...reached])
    }
}

import ChainWire

/// What a chainkv cluster looks like at one moment: the chain configuration and the election as
/// ZooKeeper holds them, and what every server says about itself.
struct BenchFailoverView: Sendable {
    var epoch: UInt64
    /// Chain members, head first (ZooKeeper's chain configuration).
    var chain: [String]
    var syncing: [String]
    /// Election candidates, leader first.
    var election: [String]
    /// Each server's answer to a status request (missing: no answer).
    var statuses: [String: NodeStatus]

    var leader: String? { election.first }

    /// "head", "middle" or "tail" for a member of a chain of two or more; "head+tail" alone.
    static func positionName(_ index: Int, of count: Int) -> String {
        if count == 1 { return "head+tail" }
        return index == 0 ? "head" : index == count - 1 ? "tail" : "middle"
    }

    func positionName(of id: String) -> String? {
        chain.firstIndex(of: id).map { Self.positionName($0, of: chain.count) }
    }

    /// The chain has `size` members, none still syncing, every member answers in the chain's epoch
    /// with the role its place gives it, and the leader is a member that knows it leads.
    func isWhole(size: Int) -> Bool {
        guard chain.count == size, syncing.isEmpty, let leader, chain.contains(leader) else { return false }
        for (i, id) in chain.enumerated() {
            guard let s = statuses[id], s.epoch == epoch else { return false }
            let expected = size == 1 ? "single" : Self.positionName(i, of: size)
            guard s.role == expected else { return false }
        }
        return statuses[leader]?.isLeader == true
    }

    /// The member that holds `role` now, if any (the first one in chain order).
    func victim(for role: BenchFailoverRole) -> String? {
        for (i, id) in chain.enumerated() where role.matches(position: i, size: chain.count, isLeader: id == leader) {
            return id
        }
        return nil
    }

    var description: String {
        "chain \(chain.joined(separator: " -> ")) (epoch \(epoch)\(syncing.isEmpty ? "" : ", syncing " + syncing.joined(separator: ","))), "
            + "leader \(leader ?? "none"), election order \(election.joined(separator: ","))"
    }
}

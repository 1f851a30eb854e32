/// A server's identity in the cluster (the `<node-id>` of its member znode).
public typealias NodeID = String

/// One configuration of the chain: an epoch and the members in chain order, head first.
///
/// Every reconfiguration bumps the epoch, and every peer message carries it, so a node can tell a
/// message of the current configuration from a late one of an older configuration.
public struct ChainView: Equatable, Sendable, CustomStringConvertible {
    public var epoch: UInt64
    public var members: [NodeID]
    /// Which run (process incarnation) of each member the configuration means. A server that
    /// restarted is a different incarnation: it must not act on a configuration that names its
    /// previous run, since its disk may hold writes the rest of the chain never committed.
    public var incarnations: [NodeID: String]
    /// Members appended by a join that may not yet hold every update committed before they
    /// joined: the snapshot they got is older than the commit point, and their predecessor is
    /// still catching them up. Such a member must never be the only one left to carry the
    /// chain on (it would roll committed writes back), so the leader neither makes it head nor
    /// restarts a dead chain from it. Only the leader reads this; nodes act on members alone.
    public var syncing: Set<NodeID>
    /// The member the head role is being handed to (a placed chain whose head server rejoined at
    /// the tail): while it is set the head sequences no new writes, so that every member comes to
    /// hold the same updates and the leader can reorder the chain without losing any.
    public var handoff: NodeID?

    public init(epoch: UInt64, members: [NodeID], incarnations: [NodeID: String] = [:], syncing: Set<NodeID> = [],
                handoff: NodeID? = nil) {
        self.handoff = handoff
        precondition(Set(members).count == members.count, "a node appears once in a chain")
        precondition(syncing.isSubset(of: members), "only a member can be syncing")
        self.epoch = epoch
        self.members = members
        self.incarnations = incarnations
        self.syncing = syncing
    }

    /// Members that hold every committed update: all but the syncing ones.
    public var synced: [NodeID] { members.filter { !syncing.contains($0) } }

    /// The view a server has before it has read any chain configuration.
    public static let empty = ChainView(epoch: 0, members: [])

    public var head: NodeID? { members.first }
    public var tail: NodeID? { members.last }

    public func contains(_ id: NodeID) -> Bool { members.contains(id) }

    public func successor(of id: NodeID) -> NodeID? {
        guard let i = members.firstIndex(of: id), i + 1 < members.count else { return nil }
        return members[i + 1]
    }

    public func predecessor(of id: NodeID) -> NodeID? {
        guard let i = members.firstIndex(of: id), i > 0 else { return nil }
        return members[i - 1]
    }

    public func role(of id: NodeID) -> Role {
        guard let i = members.firstIndex(of: id) else { return .outside }
        if members.count == 1 { return .single }
        if i == 0 { return .head }
        if i == members.count - 1 { return .tail }
        return .middle
    }

    public var description: String {
        "epoch \(epoch) [\(members.map { syncing.contains($0) ? "\($0) (syncing)" : $0 }.joined(separator: " → "))]"
    }
}

/// A node's place in a view.
public enum Role: String, Equatable, Sendable {
    /// The only member: head and tail at once.
    case single
    case head, middle, tail
    /// Not in the chain (not yet joined, or removed).
    case outside

    public var isHead: Bool { self == .head || self == .single }
    public var isTail: Bool { self == .tail || self == .single }
}

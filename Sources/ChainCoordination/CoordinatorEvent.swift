import ChainCore

/// What a `Coordinator` reports to its server, in order.
public enum CoordinatorEvent: Sendable, Equatable {
    /// This node's election znode is now the lowest: it leads until its session ends.
    case becameLeader
    /// This node led, and its election znode was deleted while its session lives (another server
    /// found it crashed, or by hand): it leads no more, and stands again at the back.
    case deposed
    /// The candidate this node watches, just below it in the election (nil: none, it leads).
    /// The server checks that candidate's process (`Coordinator.evictCandidate`).
    case electionPredecessor(ElectionPeer?)
    /// The live members (after `watchMembers()`): delivered with the current list when the watch starts and
    /// after every change, sorted by id. A member that restarted fast keeps its id; its `startedAt`/`pid` differ.
    /// `version` orders listings (the members znode's `childrenZxid`; -1 when it did not exist):
    /// a list read before another can be delivered after it (a refresh that was under way when
    /// `liveMembers()` read the newer one), and must then be ignored.
    case membersChanged([MemberInfo], version: Int64)
    /// The chain configuration and its znode version (after `watchChain()`): the current one when the watch
    /// starts (if the znode exists), then every write, including the one that creates the znode.
    case chainChanged(ChainConfig, version: Int32)
    /// The slot map of a sharded cluster and its znode version (after `watchShards()`): the
    /// current one when the watch starts, then every write. Every chain it names is then watched.
    case slotsChanged(SlotMap, version: Int32)
    /// A chain of a sharded cluster (`chains/<id>`), as `chainChanged` for the single chain.
    case shardChanged(id: String, ChainConfig, version: Int32)
    /// The session expired: ephemeral znodes are gone, leadership too, and this coordinator is dead.
    /// Make a new one (new session), register again and rejoin as a revived server.
    case sessionLost
    /// The connection to ZooKeeper dropped (false) or came back with the same session (true).
    case connectionStateChanged(connected: Bool)
}

/// A candidate in the election: its node id and its election znode.
public struct ElectionPeer: Sendable, Equatable {
    public var nodeID: String
    public var path: String

    public init(nodeID: String, path: String) {
        self.nodeID = nodeID
        self.path = path
    }
}

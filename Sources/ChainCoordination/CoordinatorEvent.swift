/// What a `Coordinator` reports to its server, in order.
public enum CoordinatorEvent: Sendable, Equatable {
    /// This node's election znode is now the lowest: it leads until its session ends.
    case becameLeader
    /// The live members (after `watchMembers()`): delivered with the current list when the watch starts and
    /// after every change, sorted by id. A member that restarted fast keeps its id; its `startedAt`/`pid` differ.
    case membersChanged([MemberInfo])
    /// The chain configuration and its znode version (after `watchChain()`): the current one when the watch
    /// starts (if the znode exists), then every write, including the one that creates the znode.
    case chainChanged(ChainConfig, version: Int32)
    /// The session expired: ephemeral znodes are gone, leadership too, and this coordinator is dead.
    /// Make a new one (new session), register again and rejoin as a revived server.
    case sessionLost
    /// The connection to ZooKeeper dropped (false) or came back with the same session (true).
    case connectionStateChanged(connected: Bool)
}

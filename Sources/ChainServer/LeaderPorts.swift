import ChainCoordination
import ChainCore
import ChainWire
import NIOCore

/// What the leader shell needs of ZooKeeper: `CoordinationDriver` on a server, a scripted fake
/// in the shell tests. Each call completes its future on `loop`.
protocol LeaderCoordination: AnyObject, Sendable {
    /// Writes chain `chain`'s znode if its version is still `expectedVersion` (nil: create it).
    func writeChain(_ chain: String, _ config: ChainConfig, expectedVersion: Int32?, on loop: EventLoop) -> EventLoopFuture<ChainWriteResult>
    /// Writes the slot map's znode if its version is still `expectedVersion` (nil: create it).
    func writeSlots(_ map: SlotMap, expectedVersion: Int32?, on loop: EventLoop) -> EventLoopFuture<SlotsWriteResult>
    /// Deletes `member`'s member znode so its lease renewals fail; true if there was one to delete.
    func fence(member: NodeID, incarnation: String?, on loop: EventLoop) -> EventLoopFuture<Bool>
    /// Removes a gone candidate's election znode (with `onlyIfLeading`, only while it leads);
    /// true if it removed it.
    func evict(_ candidate: ElectionPeer, onlyIfLeading: Bool, on loop: EventLoop) -> EventLoopFuture<Bool>
    /// Adds `server` to (or, with `cancel`, removes it from) the decommissioned servers stored in
    /// ZooKeeper; the whole set as written.
    func decommission(_ server: NodeID, cancel: Bool, on loop: EventLoop) -> EventLoopFuture<Set<NodeID>>
}

enum ChainWriteResult: Sendable {
    case written(version: Int32)
    /// The conditional write lost (fenced, or a race): what the chain znode holds now.
    case conflict(current: (ChainConfig, version: Int32)?)
}

enum SlotsWriteResult: Sendable {
    case written(version: Int32)
    /// The conditional write lost: what the slots znode holds now.
    case conflict(current: (SlotMap, version: Int32)?)
}

/// The leader's heartbeat and control links to every member (`LeaderLinks` on a server). They
/// report `unresponsive`, `responsive` and `progress` through the closure they were made with.
protocol MemberLinks: AnyObject {
    /// Keeps one link per registered member; links of members that left are closed.
    func update(members: [NodeID: NodeAddress])
    /// Marks a member already reported unresponsive by other means.
    func suspect(_ id: NodeID)
    /// Sends a control request to `member` on a connection of its own and waits for the reply.
    func request(_ message: Message, to member: NodeID, timeout: TimeAmount) -> EventLoopFuture<Message>
    func close()
}

/// A watch on the election candidate just below this server (`CandidateWatch` on a server).
protocol CandidateWatching: AnyObject {
    func close()
}

/// How the leader shell opens its links: real connections on a server, fakes in the tests.
struct LeaderDialer {
    var members: (_ report: @escaping (ClusterLeaderEvent) -> Void) -> MemberLinks
    var candidate: (_ candidate: ElectionPeer, _ address: NodeAddress,
                    _ onGone: @escaping @Sendable (ElectionPeer, CandidateAbsence) -> Void) -> CandidateWatching
    /// How many of these peers answer a status request now (`QuorumCheck`); nil: no check (a
    /// test's leader shell that watches no candidate).
    var answering: ((_ peers: [NodeAddress]) -> EventLoopFuture<Int>)? = nil
}

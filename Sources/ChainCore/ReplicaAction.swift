/// What the shell must do, in list order.
///
/// Ordering contract (the rule that makes an acknowledgement mean "on disk everywhere"):
/// - `persist` may be carried out after `forward` of the same update: a node forwards without
///   waiting for its own fsync, so the disks of the chain work in parallel.
/// - `ack` for `seq` is emitted only after `persisted(through: ≥ seq)` was fed in, and, unless this
///   node is the tail, after the successor acked `≥ seq`. `Replica` asserts this with preconditions.
/// - `reply` of a write is emitted only under the same condition, at the head.
/// - `recordEpoch` must be durable before the shell sends anything of the new epoch: a restarted
///   node then never accepts messages of an epoch older than one it already acted in.
public enum ReplicaAction: Equatable, Sendable {
    /// Append to local storage (group commit) and later feed `persisted(through:)`. For a write
    /// with a client request id, `outcome` is the reply it gets, stored in the same transaction:
    /// a retry that reaches this node after a restart, or a node that got the write in a
    /// snapshot, is answered from it instead of applying the write again.
    case persist(Update, outcome: WriteOutcome? = nil)
    /// Send to the successor; dropped by the shell if the link is down (resent on `successorLinkUp`).
    case forward(to: NodeID, epoch: UInt64, Update)
    /// Send an acknowledgement to the predecessor.
    case ack(to: NodeID, epoch: UInt64, seq: UInt64)
    /// Answer a client.
    case reply(ClientRef, Reply)
    /// Answer a retry of a committed write with the outcome stored with update `seq` (it is on
    /// this node's disk: committed means durable here).
    case replyStored(ClientRef, seq: UInt64)
    /// Keep (or open) the outbound link to this successor; nil closes it.
    case connectSuccessor(NodeID?)
    /// Close the inbound link from this node: it sent something this view does not accept. It will
    /// reconnect and resend from what we acknowledged.
    case closeInbound(NodeID)
    /// Store the epoch durably before acting in it.
    case recordEpoch(UInt64)
    /// The successor is further behind than the updates kept in memory reach: it needs a state
    /// transfer. The shell reports it (the leader re-adds the node through a join).
    case successorTooFarBehind(NodeID, position: UInt64)
}

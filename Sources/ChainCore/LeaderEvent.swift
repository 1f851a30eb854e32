/// What the shell tells a chain's `Leader` core, and what the core asks the shell to do.
public enum LeaderEvent: Equatable, Sendable {
    /// This server won the election. `chain` is the stored configuration (nil: none yet); `live`
    /// maps each registered member to its incarnation.
    case elected(chain: ChainView?, version: Int32?, live: [NodeID: String], now: UInt64)
    /// The registered (live) members changed.
    case membersChanged([NodeID: String])
    case tick(UInt64)
    case chainWritten(ChainView, version: Int32)
    /// The conditional write lost: `current` is what the znode holds now.
    case chainWriteFailed(current: ChainView?, version: Int32?)
    /// A member missed heartbeats past the limit, or answers again.
    case unresponsive(NodeID)
    /// The cluster fences this server (another chain's core asked): a head of this chain keeps
    /// its place until `fenced`, as if this core had asked.
    case fencing(NodeID)
    /// A head being fenced can no longer serve reads (its lease ran out after its znode was deleted).
    case fenced(NodeID)
    case responsive(NodeID)
    /// A member's heartbeat reply: where it stands.
    case progress(NodeID, Leader.Progress)
    /// The joiner holds a complete snapshot and is ready to become the tail.
    case transferDone(joiner: NodeID, from: NodeID)
    /// The chain's replicas go to these servers from now on (head first).
    case placementChanged([NodeID])
    case transferFailed(joiner: NodeID, from: NodeID)
    /// Another server leads now (our election znode or session is gone).
    case deposed
}

public enum LeaderAction: Equatable, Sendable {
    /// Write the chain znode if its version is still `expectedVersion` (nil: create it).
    case writeChain(ChainView, expectedVersion: Int32?)
    /// Ask `from` (the tail) to stream a snapshot to `to`; report `transferDone`/`transferFailed`.
    case startTransfer(from: NodeID, to: NodeID, epoch: UInt64)
    /// Delete this head's member znode and report `fenced` once its read lease has run out.
    case fence(NodeID)
}

/// The leader's reconfiguration decisions, as a pure state machine.
///
/// The leader owns the chain configuration stored in ZooKeeper. It writes a new configuration
/// only with a version-conditioned write, so a deposed leader's write fails (it is fenced), and
/// it keeps at most one write outstanding, deciding the next from the result. Repairs come before
/// joins; one join (state transfer) runs at a time.
public struct Leader: Sendable {
    public struct Config: Equatable, Sendable {
        /// Members to wait for before the first chain is formed.
        public var expectedMembers: Int
        /// Ticks to wait for them before forming a chain of whoever is there.
        public var formationTicks: UInt64
        /// Ticks a state transfer may take before the leader gives up on it and tries again.
        public var transferTicks: UInt64

        public init(expectedMembers: Int, formationTicks: UInt64, transferTicks: UInt64 = 600) {
            precondition(expectedMembers >= 1, "a chain needs a member")
            self.expectedMembers = expectedMembers
            self.formationTicks = formationTicks
            self.transferTicks = transferTicks
        }
    }

    public let config: Config
    /// The chain as last read or written, with its znode version (nil: no chain znode yet).
    public private(set) var chain: ChainView?
    public private(set) var chainVersion: Int32?
    /// Registered members and the incarnation each registered with.
    public private(set) var live: [NodeID: String] = [:]
    /// Members that stopped answering heartbeats (their ZooKeeper session may not have expired).
    public private(set) var suspected: Set<NodeID> = []
    /// The join in progress: the joiner receives a snapshot from `source`.
    public private(set) var transfer: Transfer?
    /// A joiner whose snapshot is complete, waiting to be appended at the tail.
    private var ready: (node: NodeID, incarnation: String)?
    /// No transfer starts before this tick: a refused one (often a tail that has not yet seen the
    /// newest epoch) is retried after a pause, not in a tight loop.
    private var transferNotBefore: UInt64 = 0
    private var electedAt: UInt64 = 0
    private var now: UInt64 = 0
    private var writing = false
    public private(set) var isLeading = false

    public struct Transfer: Equatable, Sendable {
        public var joiner: NodeID
        public var incarnation: String
        public var source: NodeID
        public var startedAt: UInt64
    }

    public init(config: Config) {
        self.config = config
    }

    public mutating func on(_ event: LeaderEvent) -> [LeaderAction] {
        switch event {
        case .elected(let chain, let version, let live, let now):
            self = Leader(config: config)
            self.chain = chain
            self.chainVersion = version
            self.live = live
            self.now = now
            self.electedAt = now
            self.isLeading = true
        case .membersChanged(let live):
            self.live = live
            suspected = suspected.filter { live[$0] != nil }
        case .tick(let now):
            self.now = now
            if let t = transfer, now >= t.startedAt + config.transferTicks {
                transfer = nil  // took too long: give up, the next decision starts over
            }
        case .chainWritten(let view, let version):
            writing = false
            chain = view
            chainVersion = version
        case .chainWriteFailed(let current, let version):
            // Someone else wrote the chain: another leader, or we lost a race with our own
            // earlier write. Adopt what is there and decide again from it.
            writing = false
            chain = current
            chainVersion = version
        case .unresponsive(let node):
            suspected.insert(node)
        case .responsive(let node):
            suspected.remove(node)
        case .transferDone(let joiner):
            if let t = transfer, t.joiner == joiner {
                transfer = nil
                ready = (t.joiner, t.incarnation)
            }
        case .transferFailed(let joiner):
            if transfer?.joiner == joiner {
                transfer = nil
                transferNotBefore = now + Leader.transferRetryTicks
            }
        case .deposed:
            isLeading = false
            writing = false
            return []
        }
        return decide()
    }

    /// Whether `node` of the chain is still the run the chain names, and answering.
    private func healthy(_ node: NodeID, in chain: ChainView) -> Bool {
        guard let incarnation = live[node], !suspected.contains(node) else { return false }
        return chain.incarnations[node] == nil || chain.incarnations[node] == incarnation
    }

    private mutating func decide() -> [LeaderAction] {
        guard isLeading, !writing else { return [] }
        guard let chain else {
            let waited = now >= electedAt + config.formationTicks
            let candidates = live.keys.filter { !suspected.contains($0) }
            guard candidates.count >= config.expectedMembers || (waited && !candidates.isEmpty) else { return [] }
            return write(ChainView(epoch: 1, members: candidates.sorted(by: Leader.chainOrder)), expected: nil)
        }
        let survivors = chain.members.filter { healthy($0, in: chain) }
        if survivors.count != chain.members.count {
            if let t = transfer, !survivors.contains(t.source) { transfer = nil }
            if !survivors.isEmpty { return write(ChainView(epoch: chain.epoch + 1, members: survivors), expected: chainVersion) }
            // Every member of the chain is gone. Only a member of this last configuration may
            // restart it: any of them holds every acknowledged write, while a server dropped
            // earlier may hold stale data. The first in chain order (the longest history) leads
            // the restart; the others rejoin with a state transfer.
            guard let restarter = chain.members.first(where: { live[$0] != nil && !suspected.contains($0) }) else { return [] }
            return write(ChainView(epoch: chain.epoch + 1, members: [restarter]), expected: chainVersion)
        }
        if let (node, incarnation) = ready {
            ready = nil
            if live[node] == incarnation && !suspected.contains(node) && !chain.members.contains(node) {
                return write(ChainView(epoch: chain.epoch + 1, members: chain.members + [node]), expected: chainVersion)
            }
        }
        guard transfer == nil, now >= transferNotBefore, let tail = chain.tail else { return [] }
        let joiners = live.keys.filter { !chain.members.contains($0) && !suspected.contains($0) }.sorted(by: Leader.chainOrder)
        guard let joiner = joiners.first else { return [] }
        transfer = Transfer(joiner: joiner, incarnation: live[joiner]!, source: tail, startedAt: now)
        return [.startTransfer(from: tail, to: joiner, epoch: chain.epoch)]
    }

    private mutating func write(_ members: ChainView, expected: Int32?) -> [LeaderAction] {
        var view = members
        for id in view.members { view.incarnations[id] = live[id] }
        writing = true
        return [.writeChain(view, expectedVersion: expected)]
    }

    /// Pause before retrying a failed transfer.
    public static let transferRetryTicks: UInt64 = 5

    /// Node ids in "natural" order, so that n2 comes before n10.
    public static func chainOrder(_ a: NodeID, _ b: NodeID) -> Bool {
        let (pa, na) = split(a), (pb, nb) = split(b)
        if pa != pb { return pa < pb }
        if na != nb { return (na ?? -1) < (nb ?? -1) }
        return a < b
    }

    private static func split(_ s: NodeID) -> (Substring, Int?) {
        let digits = s.reversed().prefix(while: { $0.isASCII && $0.isNumber }).count
        let prefix = s.dropLast(digits)
        return (prefix, digits > 0 && digits < 18 ? Int(s.suffix(digits)) : nil)
    }
}

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
    case responsive(NodeID)
    /// The joiner holds a complete snapshot and is ready to become the tail.
    case transferDone(joiner: NodeID)
    case transferFailed(joiner: NodeID)
    /// Another server leads now (our election znode or session is gone).
    case deposed
}

public enum LeaderAction: Equatable, Sendable {
    /// Write the chain znode if its version is still `expectedVersion` (nil: create it).
    case writeChain(ChainView, expectedVersion: Int32?)
    /// Ask `from` (the tail) to stream a snapshot to `to`; report `transferDone`/`transferFailed`.
    case startTransfer(from: NodeID, to: NodeID, epoch: UInt64)
}

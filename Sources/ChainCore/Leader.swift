/// The leader's reconfiguration decisions, as a pure state machine.
///
/// The leader owns the chain configuration stored in ZooKeeper. It writes a new configuration
/// only with a version-conditioned write, so a deposed leader's write fails (it is fenced), and
/// it keeps at most one write outstanding, deciding the next from the result.
public struct Leader: Sendable {
    public struct Config: Equatable, Sendable {
        /// Members to wait for before the first chain is formed.
        public var expectedMembers: Int
        /// Ticks to wait for them before forming a chain of whoever is there.
        public var formationTicks: UInt64

        public init(expectedMembers: Int, formationTicks: UInt64) {
            precondition(expectedMembers >= 1, "a chain needs a member")
            self.expectedMembers = expectedMembers
            self.formationTicks = formationTicks
        }
    }

    public let config: Config
    /// The chain as last read or written, with its znode version (nil: no chain znode yet).
    public private(set) var chain: ChainView?
    public private(set) var chainVersion: Int32?
    public private(set) var live: Set<NodeID> = []
    private var electedAt: UInt64 = 0
    private var now: UInt64 = 0
    private var writing = false
    public private(set) var isLeading = false

    public init(config: Config) {
        self.config = config
    }

    public mutating func on(_ event: LeaderEvent) -> [LeaderAction] {
        switch event {
        case .elected(let chain, let version, let live, let now):
            self.chain = chain
            self.chainVersion = version
            self.live = Set(live)
            self.now = now
            self.electedAt = now
            self.isLeading = true
            self.writing = false
        case .membersChanged(let live):
            self.live = Set(live)
        case .tick(let now):
            self.now = now
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
        case .deposed:
            isLeading = false
            writing = false
            return []
        }
        return decide()
    }

    private mutating func decide() -> [LeaderAction] {
        guard isLeading, !writing else { return [] }
        guard let chain else {
            let waited = now >= electedAt + config.formationTicks
            guard live.count >= config.expectedMembers || (waited && !live.isEmpty) else { return [] }
            let view = ChainView(epoch: 1, members: live.sorted(by: Leader.chainOrder))
            writing = true
            return [.writeChain(view, expectedVersion: nil)]
        }
        let survivors = chain.members.filter { live.contains($0) }
        // With no survivor the last configuration stays as it is: only one of its members may
        // restart the chain, since a server dropped earlier may hold stale data.
        guard !survivors.isEmpty, survivors.count != chain.members.count else { return [] }
        let view = ChainView(epoch: chain.epoch + 1, members: survivors)
        writing = true
        return [.writeChain(view, expectedVersion: chainVersion)]
    }

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
    /// This server won the election. `chain` is the stored configuration (nil: none yet).
    case elected(chain: ChainView?, version: Int32?, live: [NodeID], now: UInt64)
    /// The set of registered (live) members changed.
    case membersChanged([NodeID])
    case tick(UInt64)
    case chainWritten(ChainView, version: Int32)
    /// The conditional write lost: `current` is what the znode holds now.
    case chainWriteFailed(current: ChainView?, version: Int32?)
    /// Another server leads now (our election znode or session is gone).
    case deposed
}

public enum LeaderAction: Equatable, Sendable {
    /// Write the chain znode if its version is still `expectedVersion` (nil: create it).
    case writeChain(ChainView, expectedVersion: Int32?)
}

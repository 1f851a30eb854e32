/// The leader's decisions for every chain of the cluster, as a pure state machine: one `Leader`
/// core per chain, fed the same membership and heartbeats, each with its own configuration,
/// epoch, znode version, transfers and in-flight write; and, when keys are sharded over several
/// chains, the formation of those chains (`Placement`) and the slot map.
///
/// With one chain (`Config.sharded` false) it holds a single chain `soleChain` placed on every
/// live server, which is the paper's design and what the server ran before shards: the core
/// forms it and adds every server that registers.
///
/// Order of a sharded formation: every chain znode first, the slot map last. A leader elected
/// with chains but no slot map (its predecessor died between the two) writes the map; one
/// elected with neither forms the chains.
public struct ClusterLeader: Sendable {
    public struct Config: Equatable, Sendable {
        /// Each chain's leader configuration (with `expectedMembers` the cluster's size to wait for).
        public var leader: Leader.Config
        /// Chains to form (0: one per server at formation), and replicas of each (`Placement`);
        /// only with `sharded`.
        public var chains: Int
        public var replicas: Int
        /// Several chains with a slot map (true), or the single chain of every server (false).
        public var sharded: Bool

        public init(leader: Leader.Config, chains: Int = 1, replicas: Int = 3, sharded: Bool = false) {
            precondition(chains >= 0 && chains <= ClusterLeader.chainsMax && replicas >= 1,
                         "0...\(ClusterLeader.chainsMax) chains of at least one replica")
            self.leader = leader
            self.chains = chains
            self.replicas = replicas
            self.sharded = sharded
        }
    }

    /// A chain as its znode stores it.
    public struct StoredChain: Equatable, Sendable {
        public var view: ChainView
        public var version: Int32
        public var placement: [NodeID]?

        public init(view: ChainView, version: Int32, placement: [NodeID]?) {
            self.view = view
            self.version = version
            self.placement = placement
        }
    }

    /// The slot map as its znode stores it.
    public struct StoredSlots: Equatable, Sendable {
        public var map: SlotMap
        public var version: Int32

        public init(map: SlotMap, version: Int32) {
            self.map = map
            self.version = version
        }
    }

    /// The id of the chain of an unsharded cluster.
    public static let soleChain = "c0"
    /// Most chains one cluster may have: every one is watched by every server.
    public static let chainsMax = 256

    public let config: Config
    public private(set) var chains: [SlotMap.ChainID: Leader] = [:]
    public private(set) var slots: SlotMap?
    public private(set) var slotsVersion: Int32?
    public private(set) var isLeading = false
    private(set) var live: [NodeID: String] = [:]
    private(set) var suspected: Set<NodeID> = []
    /// Servers being fenced: several chains may ask to fence the same head; it is fenced once.
    private var fencing: Set<NodeID> = []
    private var electedAt: UInt64 = 0
    private(set) var now: UInt64 = 0
    private var writingSlots = false
    /// The slot move this core started (the map version that records it) and whether its copy
    /// is done; nil when none is under way (ClusterLeader+Growth).
    var copy: (version: UInt64, done: Bool)?
    /// No move starts before this tick: one whose copy failed is retried after a pause.
    var moveNotBefore: UInt64 = 0
    /// Servers an operator decommissioned (`chainkv decommission`): placed in no chain, their
    /// replicas move to the others (ClusterLeader+Growth).
    public private(set) var decommissioned: Set<NodeID> = []

    public init(config: Config) {
        self.config = config
    }

    /// The id of chain `index`: "c0", "c1", ...
    public static func chainID(_ index: Int) -> SlotMap.ChainID { "c\(index)" }

    public mutating func on(_ event: ClusterLeaderEvent) -> [ClusterLeaderAction] {
        var actions: [ClusterLeaderAction] = []
        switch event {
        case .elected(let stored, let slots, let live, let now, let decommissioned):
            self = ClusterLeader(config: config)
            (self.live, self.now, electedAt, isLeading) = (live, now, now, true)
            self.decommissioned = decommissioned
            self.slots = slots?.map
            slotsVersion = slots?.version
            if !config.sharded {
                let sole = stored[Self.soleChain]
                start(Self.soleChain, placement: nil, stored: sole, &actions)
            } else {
                for (id, chain) in stored.sorted(by: { $0.key < $1.key }) {
                    start(id, placement: chain.placement ?? chain.view.members, stored: chain, &actions)
                }
            }
        case .decommissioned(let servers):
            decommissioned = servers
        case .membersChanged(let live):
            self.live = live
            suspected = suspected.filter { live[$0] != nil }
            all(.membersChanged(live), &actions)
        case .tick(let now):
            self.now = now
            all(.tick(now), &actions)
        case .unresponsive(let node):
            suspected.insert(node)
            abandonCopy(ifAsking: node)
            all(.unresponsive(node), &actions)
        case .responsive(let node):
            suspected.remove(node)
            all(.responsive(node), &actions)
        case .fenced(let node):
            fencing.remove(node)
            all(.fenced(node), &actions)
        case .fenceFailed(let node):
            // The chains that asked keep the head and wait (as one chain always did); a later
            // request to fence it, from any chain, is carried out again.
            fencing.remove(node)
        case .progress(let node, let progress):
            for (id, p) in progress.sorted(by: { $0.key < $1.key }) { one(id, .progress(node, p), &actions) }
        case .chainWritten(let id, let view, let version):
            one(id, .chainWritten(view, version: version), &actions)
        case .chainWriteFailed(let id, let current, let version):
            one(id, .chainWriteFailed(current: current, version: version), &actions)
        case .transferDone(let id, let joiner, let source):
            one(id, .transferDone(joiner: joiner, from: source), &actions)
        case .transferFailed(let id, let joiner, let source):
            one(id, .transferFailed(joiner: joiner, from: source), &actions)
        case .slotsWritten(let map, let version):
            writingSlots = false
            let previous = slots
            slots = map
            slotsVersion = version
            movesWritten(previous: previous, map, &actions)
        case .slotsWriteFailed(let current):
            writingSlots = false
            slots = current?.map
            slotsVersion = current?.version
            copy = nil
        case .slotsCopied(let mapVersion):
            if copy?.version == mapVersion { copy?.done = true }
        case .slotsCopyFailed(let mapVersion):
            if copy?.version == mapVersion {
                copy = nil
                moveNotBefore = now + Self.moveRetryTicks
            }
        case .deposed:
            isLeading = false
            writingSlots = false
            copy = nil
            all(.deposed, &actions)
            return []
        }
        decide(&actions)
        return actions
    }

    private mutating func decide(_ actions: inout [ClusterLeaderAction]) {
        guard isLeading, config.sharded else { return }
        if chains.isEmpty {
            // Wait for the expected servers (or the formation timeout), then place every chain.
            let candidates = live.keys.filter { !suspected.contains($0) }.sorted(by: Leader.chainOrder)
            let waited = now >= electedAt + config.leader.formationTicks
            guard candidates.count >= config.leader.expectedMembers || (waited && !candidates.isEmpty) else { return }
            place(candidates, missing: Set((0..<chainCount(candidates.count)).map(Self.chainID)), &actions)
            return
        }
        if slots == nil, config.chains > chains.count {
            // A leader that died part way through the formation left some chains unwritten: the
            // slot map is written last, so its absence says the formation is not over. Place the
            // missing chains over the live servers, as the formation would have.
            let candidates = live.keys.filter { !suspected.contains($0) }.sorted(by: Leader.chainOrder)
            let missing = Set((0..<config.chains).map(Self.chainID)).subtracting(chains.keys)
            if !candidates.isEmpty { place(candidates, missing: missing, &actions) }
            return
        }
        guard !writingSlots else { return }
        if let slots {
            // Formed: grow onto new servers and move slots (ClusterLeader+Growth).
            rebalance(slots, &actions)
            return
        }
        // The slot map goes last, once every chain has a znode to route to.
        guard chains.values.allSatisfy({ $0.chain != nil }) else { return }
        writeSlots(SlotMap.even(chains: chains.keys.sorted(by: Leader.chainOrder)), &actions)
    }

    mutating func writeSlots(_ map: SlotMap, _ actions: inout [ClusterLeaderAction]) {
        writingSlots = true
        actions.append(.writeSlots(map, expectedVersion: slotsVersion))
    }

    /// Chains to form over `servers` servers: the configured count, or one per server.
    private func chainCount(_ servers: Int) -> Int {
        config.chains == 0 ? min(servers, Self.chainsMax) : config.chains
    }

    /// Forms the chains named in `missing`, each on its servers of the placement over `servers`.
    private mutating func place(_ servers: [NodeID], missing: Set<SlotMap.ChainID>, _ actions: inout [ClusterLeaderAction]) {
        let placement = Placement.chains(servers: servers, count: chainCount(servers.count), replicas: config.replicas)
        for (index, members) in placement.enumerated() where missing.contains(Self.chainID(index)) {
            start(Self.chainID(index), placement: members, stored: nil, &actions)
        }
    }

    /// Makes the core of chain `id` and elects it: it forms the chain if `stored` is nil.
    mutating func start(_ id: SlotMap.ChainID, placement: [NodeID]?, stored: StoredChain?,
                                _ actions: inout [ClusterLeaderAction]) {
        var leaderConfig = config.leader
        // A placed chain is formed at once: the cluster waited for its servers before placing it.
        if let placement { leaderConfig.expectedMembers = placement.count }
        chains[id] = Leader(config: leaderConfig, placement: placement)
        one(id, .elected(chain: stored?.view, version: stored?.version, live: live, now: now), &actions)
        for node in suspected { one(id, .unresponsive(node), &actions) }
    }

    private mutating func all(_ event: LeaderEvent, _ actions: inout [ClusterLeaderAction]) {
        for id in chains.keys.sorted(by: Leader.chainOrder) { one(id, event, &actions) }
    }

    mutating func one(_ id: SlotMap.ChainID, _ event: LeaderEvent, _ actions: inout [ClusterLeaderAction]) {
        guard var core = chains[id] else { return }
        let produced = core.on(event)
        chains[id] = core
        for action in produced {
            switch action {
            case .writeChain(let view, let expected):
                actions.append(.writeChain(id, view, placement: core.placement, expectedVersion: expected))
            case .startTransfer(let from, let to, let epoch):
                actions.append(.startTransfer(id, from: from, to: to, epoch: epoch))
            case .fence(let node):
                guard fencing.insert(node).inserted else { break }
                actions.append(.fence(node))
                // One chain found the server cut off (a dead link) while the others still hear
                // it: a chain it heads must keep it until `fenced` too, not drop it when its
                // znode goes, or a new head would take writes while it still answers reads.
                for other in chains.keys.sorted(by: Leader.chainOrder) where other != id { one(other, .fencing(node), &actions) }
            }
        }
    }
}

public enum ClusterLeaderEvent: Equatable, Sendable {
    /// This server won the election: the stored chains by id (for an unsharded cluster, its one
    /// chain under `ClusterLeader.soleChain`), the slot map, the live members and their runs.
    case elected(chains: [SlotMap.ChainID: ClusterLeader.StoredChain], slots: ClusterLeader.StoredSlots?,
                 live: [NodeID: String], now: UInt64, decommissioned: Set<NodeID> = [])
    /// The servers decommissioned now (the whole set, as stored).
    case decommissioned(Set<NodeID>)
    case membersChanged([NodeID: String])
    case tick(UInt64)
    case unresponsive(NodeID)
    case responsive(NodeID)
    case fenced(NodeID)
    /// Deleting the server's member znode failed (ZooKeeper unreachable for a long while).
    case fenceFailed(NodeID)
    /// A member's heartbeat reply: where it stands in each chain it serves.
    case progress(NodeID, [SlotMap.ChainID: Leader.Progress])
    case chainWritten(SlotMap.ChainID, ChainView, version: Int32)
    case chainWriteFailed(SlotMap.ChainID, current: ChainView?, version: Int32?)
    case transferDone(SlotMap.ChainID, joiner: NodeID, from: NodeID)
    case transferFailed(SlotMap.ChainID, joiner: NodeID, from: NodeID)
    case slotsWritten(SlotMap, version: Int32)
    /// The conditional write lost: `current` is what the slots znode holds now.
    case slotsWriteFailed(current: ClusterLeader.StoredSlots?)
    /// The donor's head copied the slots of the move recorded in map `mapVersion` into the
    /// recipient (every key committed there), or could not.
    case slotsCopied(mapVersion: UInt64)
    case slotsCopyFailed(mapVersion: UInt64)
    case deposed
}

public enum ClusterLeaderAction: Equatable, Sendable {
    /// Write chain `id`'s znode if its version is still `expectedVersion` (nil: create it).
    case writeChain(SlotMap.ChainID, ChainView, placement: [NodeID]?, expectedVersion: Int32?)
    /// Write the slot map if its znode's version is still `expectedVersion` (nil: create it).
    case writeSlots(SlotMap, expectedVersion: Int32?)
    /// Ask `from` (the tail of chain `id`) to stream that chain's snapshot to `to`.
    case startTransfer(SlotMap.ChainID, from: NodeID, to: NodeID, epoch: UInt64)
    /// Delete this server's member znode and report `fenced` once its read lease has run out.
    case fence(NodeID)
    /// Copy the moving slots of map `mapVersion` from the donor's head into the recipient's
    /// (which first purges any rows of them it holds); report `slotsCopied` or `slotsCopyFailed`.
    case copySlots(SlotMove, mapVersion: UInt64)
    /// Map `mapVersion` gave the moved slots to the recipient: the donor's head deletes its rows
    /// of them (nothing to report: rows left behind are purged before any later import).
    case dropSlots(SlotMove, mapVersion: UInt64)
}

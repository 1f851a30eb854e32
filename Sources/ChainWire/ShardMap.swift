import ChainCore

/// The slot map as a server hands it to clients (`getSlots`): which chain owns each slot and
/// each chain's members, head first, so a client can send every key to its chain's head. An
/// unsharded cluster answers with one chain owning every slot and version 0.
public struct ShardMap: Equatable, Sendable {
    /// The slot map's version (`SlotMap.version`).
    public var version: UInt64
    public var chains: [Shard]

    public struct Shard: Equatable, Sendable {
        public var id: String
        /// Inclusive slot ranges, ascending.
        public var slots: [ClosedRange<Int>]
        /// The chain as the answering server last read it (epoch 0, no members: not yet known).
        public var chain: ChainInfo

        public init(id: String, slots: [ClosedRange<Int>], chain: ChainInfo) {
            self.id = id
            self.slots = slots
            self.chain = chain
        }
    }

    public init(version: UInt64, chains: [Shard]) {
        self.version = version
        self.chains = chains
    }

    /// `map`'s owners with each chain's members from `chain` (nil: not known yet, epoch 0), the
    /// chains in natural id order (c2 before c10): how a server, the client library and `chainkv
    /// status` each describe a sharded cluster.
    package init(_ map: SlotMap, chain: (SlotMap.ChainID) -> ChainInfo?) {
        let ranges = map.ranges
        self.init(version: map.version, chains: ranges.keys.sorted(by: Leader.chainOrder).map { id in
            Shard(id: id, slots: ranges[id] ?? [], chain: chain(id) ?? ChainInfo(epoch: 0, members: []))
        })
    }

    /// The slot map it describes; nil unless the ranges cover every slot exactly once.
    package var slotMap: SlotMap? {
        SlotMap(version: version, ranges: Dictionary(chains.map { ($0.id, $0.slots) }, uniquingKeysWith: { $0 + $1 }))
    }
}

/// Where one server stands in one chain (`NodeStatus.chains`).
public struct ChainStatus: Equatable, Sendable {
    public var chain: String
    public var epoch: UInt64
    public var role: String
    public var received: UInt64
    public var durable: UInt64
    public var stable: UInt64
    public var inflight: UInt32

    public init(chain: String, epoch: UInt64, role: String, received: UInt64, durable: UInt64, stable: UInt64, inflight: UInt32) {
        self.chain = chain
        self.epoch = epoch
        self.role = role
        self.received = received
        self.durable = durable
        self.stable = stable
        self.inflight = inflight
    }
}

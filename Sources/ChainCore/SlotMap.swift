/// Keys to chains through a fixed table of hash slots (as in Redis Cluster): every key hashes to
/// one of `slotCount` slots, and every slot is owned by one chain. Moving keys between chains
/// moves whole slots, so the map stays small (a few ranges per chain) and a client caches it.
///
/// The hash is part of the cluster's format: every client and server must compute the same slot
/// for a key, so it never changes.
public struct SlotMap: Equatable, Sendable {
    public typealias ChainID = String

    /// Slots in every map. 4096 (Redis Cluster uses 16,384): enough to move load in steps of
    /// 0.025 % and to spread keys evenly over hundreds of chains; small enough that the whole map
    /// as ranges is a few hundred bytes in its znode.
    public static let slotCount = 4096

    /// Grows by one with every change, so a client can tell an older map from a newer one.
    public let version: UInt64
    /// The chain that owns each slot, indexed by slot.
    public let owners: [ChainID]
    /// Slots being moved to another chain (`SlotMove`): still owned by `from`, served by no one.
    public let moving: SlotMove?

    /// nil unless `owners` names an owner for every slot, and `moving`'s slots are all `from`'s.
    public init?(version: UInt64, owners: [ChainID], moving: SlotMove? = nil) {
        guard owners.count == Self.slotCount, !owners.contains(where: \.isEmpty) else { return nil }
        if let moving, !moving.slots.allSatisfy({ owners[$0] == moving.from }) { return nil }
        self.version = version
        self.owners = owners
        self.moving = moving
    }

    /// Whether clients may read and write keys of `slot` (it is not moving).
    public func serves(_ slot: Int) -> Bool {
        !(moving?.contains(slot) ?? false)
    }

    /// The next map: `move` recorded as under way.
    public func starting(_ move: SlotMove) -> SlotMap? {
        SlotMap(version: version + 1, owners: owners, moving: move)
    }

    /// The next map: the move under way done (its slots owned by the recipient), or dropped.
    public func ending(done: Bool) -> SlotMap {
        var next = owners
        if done, let moving { for slot in moving.slots { next[slot] = moving.to } }
        return SlotMap(version: version + 1, owners: next)!
    }

    /// `chains` own contiguous runs of slots whose sizes differ by one at most, in the given order.
    public static func even(chains: [ChainID], version: UInt64 = 1) -> SlotMap {
        precondition(!chains.isEmpty && chains.count <= slotCount, "1...\(slotCount) chains own the slots")
        let owners = (0..<slotCount).map { chains[$0 * chains.count / slotCount] }
        return SlotMap(version: version, owners: owners)!
    }

    /// The slot of `key`: FNV-1a (64 bits) of its UTF-8 bytes, modulo `slotCount`.
    public static func slot(of key: String) -> Int {
        Int(FNV1a.hash(key) % UInt64(slotCount))
    }

    public func chain(of key: String) -> ChainID { owners[Self.slot(of: key)] }

    /// Every owner's slots as inclusive ranges, ascending: the form the slots znode stores.
    public var ranges: [ChainID: [ClosedRange<Int>]] {
        var result: [ChainID: [ClosedRange<Int>]] = [:]
        var start = 0
        for slot in 1...Self.slotCount where slot == Self.slotCount || owners[slot] != owners[start] {
            result[owners[start], default: []].append(start...(slot - 1))
            start = slot
        }
        return result
    }

    /// The map the ranges describe; nil unless they cover every slot exactly once.
    public init?(version: UInt64, ranges: [ChainID: [ClosedRange<Int>]], moving: SlotMove? = nil) {
        var owners = [ChainID?](repeating: nil, count: Self.slotCount)
        for (chain, list) in ranges {
            for range in list {
                guard range.lowerBound >= 0, range.upperBound < Self.slotCount else { return nil }
                for slot in range {
                    guard owners[slot] == nil else { return nil }
                    owners[slot] = chain
                }
            }
        }
        guard !owners.contains(where: { $0 == nil }) else { return nil }
        self.init(version: version, owners: owners.map { $0! }, moving: moving)
    }

    /// Slots each chain owns.
    public var counts: [ChainID: Int] {
        owners.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }
}

import ChainCore

/// The slot map as the `slots` znode stores it, readable with zkCli:
/// `{"version":V,"chains":{"<chain-id>":[[from,to],...]}}` (inclusive slot ranges, ascending),
/// and while slots move between chains `"moving":{"from":"c1","to":"c5","slots":[[from,to],...]}`.
public struct SlotsZnode: Codable, Equatable, Sendable {
    public var version: UInt64
    public var chains: [String: [[Int]]]
    public var moving: Moving?

    public struct Moving: Codable, Equatable, Sendable {
        public var from: String
        public var to: String
        public var slots: [[Int]]
    }

    public init(_ map: SlotMap) {
        version = map.version
        chains = map.ranges.mapValues { $0.map { [$0.lowerBound, $0.upperBound] } }
        moving = map.moving.map { Moving(from: $0.from, to: $0.to, slots: $0.ranges.map { [$0.lowerBound, $0.upperBound] }) }
    }

    /// The map; throws `CoordinationError.invalidData` unless every chain id is a valid name and
    /// the ranges cover every slot exactly once.
    public func map() throws -> SlotMap {
        var ranges: [String: [ClosedRange<Int>]] = [:]
        for (chain, list) in chains {
            try ZnodePaths.validateName(chain)
            for pair in list {
                guard pair.count == 2, pair[0] <= pair[1] else {
                    throw CoordinationError.invalidData("slots of \(chain): \(pair) is not a [from, to] range")
                }
                ranges[chain, default: []].append(pair[0]...pair[1])
            }
        }
        var move: SlotMove?
        if let moving {
            try ZnodePaths.validateName(moving.from)
            try ZnodePaths.validateName(moving.to)
            let list = try moving.slots.map { pair -> ClosedRange<Int> in
                guard pair.count == 2, pair[0] <= pair[1], pair[0] >= 0, pair[1] < SlotMap.slotCount else {
                    throw CoordinationError.invalidData("moving slots: \(pair) is not a [from, to] range")
                }
                return pair[0]...pair[1]
            }
            guard list.count <= SlotMove.slotsMax,
                  let m = SlotMove(slots: SlotMove.slots(of: list), from: moving.from, to: moving.to) else {
                throw CoordinationError.invalidData("moving: at most \(SlotMove.slotsMax) distinct ascending slots between two chains")
            }
            move = m
        }
        guard let map = SlotMap(version: version, ranges: ranges, moving: move) else {
            throw CoordinationError.invalidData("slot ranges must cover slots 0...\(SlotMap.slotCount - 1) exactly once, "
                                                + "and moving slots must be owned by the chain they leave")
        }
        return map
    }

    public func encoded() throws -> [UInt8] {
        _ = try map()
        return try ZnodeJSON.encode(self)
    }

    /// Parses and validates znode data; throws `CoordinationError` for anything else.
    public static func decode(_ bytes: [UInt8]) throws -> SlotMap {
        try ZnodeJSON.decode(SlotsZnode.self, from: bytes).map()
    }
}

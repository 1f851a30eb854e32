import ChainCore

/// The slot map as the `slots` znode stores it, readable with zkCli:
/// `{"version":V,"chains":{"<chain-id>":[[from,to],...]}}` (inclusive slot ranges, ascending).
public struct SlotsZnode: Codable, Equatable, Sendable {
    public var version: UInt64
    public var chains: [String: [[Int]]]

    public init(_ map: SlotMap) {
        version = map.version
        chains = map.ranges.mapValues { $0.map { [$0.lowerBound, $0.upperBound] } }
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
        guard let map = SlotMap(version: version, ranges: ranges) else {
            throw CoordinationError.invalidData("slot ranges must cover slots 0...\(SlotMap.slotCount - 1) exactly once")
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

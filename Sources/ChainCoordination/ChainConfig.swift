/// The chain configuration in the persistent znode `chain`, written only by the leader with a
/// version-conditioned `setData`.
public struct ChainConfig: Codable, Equatable, Hashable, Sendable {
    /// Raised by the leader on every change; peers refuse messages from older epochs.
    public var epoch: UInt64
    /// Node ids in chain order, head first.
    public var members: [String]
    /// "host:port" of each member, by node id.
    public var addresses: [String: String]
    /// Node id of the leader that wrote this configuration.
    public var leader: String
    /// ISO-8601 time of the write.
    public var updatedAt: String
    /// The incarnation (`MemberInfo.incarnation`) of each member this configuration means. A
    /// server that restarted is not the member named here until the leader re-adds it.
    public var incarnations: [String: String]
    /// Members appended by a join that may not yet hold every committed write (see
    /// `ChainView.syncing`); sorted. Only the leader acts on it.
    public var syncing: [String]
    /// In a sharded cluster, the servers the chain is placed on, head first (`Placement`): only
    /// they rejoin it. Absent for the single chain of every server.
    public var placement: [String]?
    /// The member the head role is being handed to (`ChainView.handoff`): the head takes no new
    /// writes while it is set. Absent otherwise.
    public var handoff: String?

    public init(
        epoch: UInt64, members: [String], addresses: [String: String], leader: String,
        updatedAt: String = ZnodeJSON.timestamp(), incarnations: [String: String] = [:], syncing: [String] = [],
        placement: [String]? = nil, handoff: String? = nil
    ) {
        self.placement = placement
        self.handoff = handoff
        self.epoch = epoch
        self.members = members
        self.addresses = addresses
        self.leader = leader
        self.updatedAt = updatedAt
        self.incarnations = incarnations
        self.syncing = syncing.sorted()
    }

    enum CodingKeys: String, CodingKey {
        case epoch, members, addresses, leader, updatedAt, incarnations, syncing, placement, handoff
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(UInt64.self, forKey: .epoch)
        members = try c.decode([String].self, forKey: .members)
        addresses = try c.decode([String: String].self, forKey: .addresses)
        leader = try c.decode(String.self, forKey: .leader)
        updatedAt = try c.decode(String.self, forKey: .updatedAt)
        // Absent in configurations written before incarnations were recorded.
        incarnations = try c.decodeIfPresent([String: String].self, forKey: .incarnations) ?? [:]
        // Absent in configurations written before joiners were marked.
        syncing = try c.decodeIfPresent([String].self, forKey: .syncing) ?? []
        placement = try c.decodeIfPresent([String].self, forKey: .placement)
        handoff = try c.decodeIfPresent(String.self, forKey: .handoff)
    }

    public var head: String? { members.first }
    public var tail: String? { members.last }

    /// Throws `CoordinationError` unless the configuration is usable: valid, distinct member ids, each with an
    /// address. (An empty chain is allowed: it is what the leader writes when no member is left.)
    public func validate() throws {
        try ZnodePaths.validateName(leader)
        var seen = Set<String>()
        for member in members {
            try ZnodePaths.validateName(member)
            guard seen.insert(member).inserted else {
                throw CoordinationError.invalidData("chain lists \(member) twice")
            }
            guard let address = addresses[member], !address.isEmpty else {
                throw CoordinationError.invalidData("chain member \(member) has no address")
            }
        }
        for node in syncing where !seen.contains(node) {
            throw CoordinationError.invalidData("syncing node \(node) is not a chain member")
        }
        if let handoff, !seen.contains(handoff) {
            throw CoordinationError.invalidData("handoff to \(handoff), which is not a chain member")
        }
        if let placement {
            for node in placement { try ZnodePaths.validateName(node) }
            guard !placement.isEmpty, Set(placement).count == placement.count else {
                throw CoordinationError.invalidData("a placement names one or more distinct servers")
            }
        }
    }

    /// The znode data (compact JSON with sorted keys).
    public func encoded() throws -> [UInt8] {
        try validate()
        return try ZnodeJSON.encode(self)
    }

    /// Parses and validates znode data; throws `CoordinationError` for anything else.
    public static func decode(_ bytes: [UInt8]) throws -> ChainConfig {
        let config = try ZnodeJSON.decode(ChainConfig.self, from: bytes)
        try config.validate()
        return config
    }
}

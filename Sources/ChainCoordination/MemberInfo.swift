import FoundationEssentials

/// What a live server publishes in its ephemeral znode `members/<id>`.
///
/// `startedAt` and `pid` identify the incarnation: a server that restarts quickly keeps its id, and the leader
/// tells the new incarnation from the old one by comparing these.
public struct MemberInfo: Codable, Equatable, Hashable, Sendable {
    public var id: String
    /// Address that clients and peers use to reach the server.
    public var host: String
    public var port: Int
    /// ISO-8601 time the process started.
    public var startedAt: String
    public var pid: Int32

    public init(
        id: String, host: String, port: Int,
        startedAt: String = ZnodeJSON.timestamp(), pid: Int32 = ProcessInfo.processInfo.processIdentifier
    ) {
        self.id = id
        self.host = host
        self.port = port
        self.startedAt = startedAt
        self.pid = pid
    }

    /// "host:port", as used in `ChainConfig.addresses`.
    public var address: String { "\(host):\(port)" }

    /// Identifies this run of the server: the same id restarted is a different incarnation.
    public var incarnation: String { "\(startedAt)/\(pid)" }

    /// Throws `CoordinationError` unless the fields make sense.
    public func validate() throws {
        try ZnodePaths.validateName(id)
        guard !host.isEmpty, host.utf8.count <= 255, !host.contains(where: \.isWhitespace) else {
            throw CoordinationError.invalidData("member \(id): bad host \(String(reflecting: host))")
        }
        guard (1...65535).contains(port) else {
            throw CoordinationError.invalidData("member \(id): port \(port) out of range")
        }
    }

    /// The znode data (compact JSON with sorted keys).
    public func encoded() throws -> [UInt8] {
        try validate()
        return try ZnodeJSON.encode(self)
    }

    /// Parses and validates znode data; throws `CoordinationError` for anything else.
    public static func decode(_ bytes: [UInt8]) throws -> MemberInfo {
        let member = try ZnodeJSON.decode(MemberInfo.self, from: bytes)
        try member.validate()
        return member
    }
}

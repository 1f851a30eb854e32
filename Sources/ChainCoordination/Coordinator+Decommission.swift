/// The servers an operator decommissioned (`chainkv decommission`), kept in ZooKeeper so that
/// every leader after the one asked moves their replicas off too. Written by the leader with a
/// version-conditioned write, like the chain and slot znodes.
extension Coordinator {
    struct DecommissionedZnode: Codable {
        var servers: [String]
    }

    /// Most servers the list may name.
    public static let decommissionedMax = 256

    /// The decommissioned servers (empty before any was).
    public func readDecommissioned() async throws -> Set<String> {
        try await readVersioned(paths.decommissioned, Self.decodeDecommissioned)?.0 ?? []
    }

    /// Applies `change` to the stored set and writes it back, retrying when another write won
    /// the race; returns the set written.
    public func updateDecommissioned(_ change: @Sendable (inout Set<String>) -> Void) async throws -> Set<String> {
        for _ in 0..<10 {
            let current = try await readVersioned(paths.decommissioned, Self.decodeDecommissioned)
            var servers = current?.0 ?? []
            change(&servers)
            guard servers.count <= Self.decommissionedMax else {
                throw CoordinationError.invalidData("more than \(Self.decommissionedMax) decommissioned servers")
            }
            let data = try ZnodeJSON.encode(DecommissionedZnode(servers: servers.sorted()))
            do {
                _ = try await writeVersioned(paths.decommissioned, parent: paths.root, data: data, expectedVersion: current?.version)
                logger.notice("decommissioned servers written", metadata: ["servers": "\(servers.sorted())"])
                return servers
            } catch ZooKeeperError.badVersion, ZooKeeperError.nodeExists {
                continue  // another write won: read again
            }
        }
        throw CoordinationError.invalidData("the decommissioned list kept changing under ten attempts")
    }

    static func decodeDecommissioned(_ bytes: [UInt8]) throws -> Set<String> {
        let znode = try ZnodeJSON.decode(DecommissionedZnode.self, from: bytes)
        for server in znode.servers { try ZnodePaths.validateName(server) }
        return Set(znode.servers)
    }
}

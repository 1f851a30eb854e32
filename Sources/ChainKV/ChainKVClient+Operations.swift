internal import ChainTransport
internal import ChainWire

/// Operator calls that go to the cluster's leader.
extension ChainKVClient {
    /// Decommissions `server` (its replicas move to the other servers, for good), or with
    /// `cancel` makes it a server like any other again; returns how many servers are
    /// decommissioned now. Asks the servers it knows which one leads, then asks the leader.
    public func decommission(_ server: String, cancel: Bool = false) async throws -> Int {
        guard KeyValidation.check(server) == nil, !server.isEmpty, server.utf8.count <= WireLimits.nodeIDSizeMax else {
            throw ChainKVError.invalidArgument("bad server id \"\(server)\"")
        }
        var lastError: ChainKVError = .network("none of the servers given leads the cluster; name them all")
        for seed in seeds {
            do {
                let connection = try await connect(host: seed.host, port: seed.port)
                defer { connection.close() }
                guard case .statusReply(let status) = try await connection.request(.status, timeout: options.requestTimeout),
                      status.isLeader else { continue }
                switch try await connection.request(.decommission(server: server, cancel: cancel), timeout: options.requestTimeout) {
                case .ack(_, let count): return Int(count)
                case let other: throw unexpected(other)
                }
            } catch let error as ChainKVError {
                if case .server = error { throw error }
                lastError = error
            } catch {
                lastError = .network("\(error)")
            }
        }
        throw lastError
    }
}

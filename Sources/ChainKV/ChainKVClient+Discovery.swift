internal import ChainTransport
internal import ChainWire
internal import NIOConcurrencyHelpers
internal import NIOCore

/// No head could be reached in one round of asking every known server.
struct HeadNotFound: Error {
    var error: ChainKVError
    /// Every server refused the connection: none is running (or none listens at these addresses).
    var everyServerRefused: Bool
}

/// Finding the heads: every server the client knows (the chain members from the last answer,
/// then the servers it was given) is asked at once for the slot map and every chain's members
/// (`getSlots`); the newest map and, for each chain, the newest epoch win (`Routes.merge`).
/// Asking all at once keeps a server that stopped answering (paused, cut off) from holding up the
/// round for more than `probeTimeout`. The connections of the servers that answered are kept:
/// the client holds one connection per server and sends each key to its chain's head on it.
extension ChainKVClient {
    /// What asking one server gave.
    enum ProbeResult: Sendable {
        case slots(ShardMap, Connection)
        case failed(String, refused: Bool)
        case unauthorized(ChainKVError)
        /// The grace after the first usable answer is over: stop waiting for slower servers.
        case graceOver
    }

    /// After the first answer naming a head, how long to wait for answers with a newer epoch.
    static let answerGrace = Duration.milliseconds(30)

    /// The discovery requests share (`State.discovery`), cleared when it ends.
    func discoverRoutes() async throws -> Routes {
        defer { state.withLockedValue { $0.discovery = nil } }
        return try await findRoutes()
    }

    /// One round of asking every known server; the routes found replace the client's.
    func findRoutes() async throws -> Routes {
        let known = state.withLockedValue { $0.known }
        var seen = Set<String>()
        let addresses = (known + seeds).filter { seen.insert("\($0.host):\($0.port)").inserted }
        let (results, sink) = AsyncStream.makeStream(of: ProbeResult.self)
        for (host, port) in addresses {
            Task {
                let result = await probe(host: host, port: port)
                // An answer after the round ended is not used: close its connection.
                if case .terminated = sink.yield(result), case .slots(_, let connection) = result { connection.close() }
            }
        }
        var answers: [ShardMap] = []
        var connections: [Connection] = []
        var failures: [String] = []
        var refused = 0
        var unanswered = addresses.count
        var graceStarted = false
        roundLoop: for await result in results {
            switch result {
            case .graceOver:
                break roundLoop
            case .unauthorized(let error):
                sink.finish()
                for c in connections { c.close() }
                for await leftover in results {
                    if case .slots(_, let connection) = leftover { connection.close() }
                }
                throw error
            case .failed(let reason, let wasRefused):
                failures.append(reason)
                if wasRefused { refused += 1 }
            case .slots(let map, let connection):
                answers.append(map)
                connections.append(connection)
                if !graceStarted, Routes.merge(answers)?.chains.values.contains(where: { $0.head != nil }) == true {
                    graceStarted = true
                    Task {
                        try? await Task.sleep(for: Self.answerGrace)
                        sink.yield(.graceOver)
                    }
                }
            }
            unanswered -= 1
            if unanswered == 0 { break }
        }
        sink.finish()
        // Answers already queued when the round ended are not used: close their connections.
        for await leftover in results {
            if case .slots(_, let connection) = leftover { connection.close() }
        }
        guard let routes = Routes.merge(answers), routes.chains.values.contains(where: { $0.head != nil }) else {
            for c in connections { c.close() }
            if !answers.isEmpty { failures.append("no chain has a head yet") }
            throw HeadNotFound(error: .network("no head reachable (\(failures.joined(separator: "; ")))"),
                               everyServerRefused: !addresses.isEmpty && refused == addresses.count)
        }
        let replaced = state.withLockedValue { s -> [Connection] in
            // Shut down meanwhile: keep nothing.
            if s.closed { return connections }
            s.routes = routes
            s.known = routes.servers.map { ($0.host, $0.port) }
            var replaced: [Connection] = []
            for c in connections {
                let key = ServerKey(host: c.host, port: c.port)
                if let old = s.connections[key], old.isActive {
                    replaced.append(c)  // keep the one requests may be in flight on
                } else {
                    s.connections[key] = c
                }
            }
            return replaced
        }
        for c in replaced { c.close() }
        if state.withLockedValue({ $0.closed }) { throw ChainKVError.network("client is shut down") }
        return routes
    }

    /// Asks one server for the slot map and the chains.
    private func probe(host: String, port: Int) async -> ProbeResult {
        let connection: Connection
        do {
            connection = try await dial(host: host, port: port, timeout: min(options.connectTimeout, options.probeTimeout * 2))
        } catch let error as ChainKVError where error.isUnauthorized {
            return .unauthorized(error)
        } catch {
            return .failed("\(host):\(port): cannot connect: \(error)", refused: isConnectionRefused(error))
        }
        do {
            let reply = try await connection.request(.getSlots, timeout: options.probeTimeout)
            switch reply {
            case .slots(let map):
                return .slots(map, connection)
            case .error(.unauthorized, _):
                connection.close()
                return .unauthorized(unexpected(reply))
            default:
                connection.close()
                return .failed("\(host):\(port): unexpected reply \(reply.kind)", refused: false)
            }
        } catch {
            connection.close()
            return .failed("\(host):\(port): \(error)", refused: false)
        }
    }
}

/// The routes and connections requests use: the current routes (one discovery shared by
/// concurrent callers) and one connection per server.
extension ChainKVClient {
    /// The routes of the last discovery, or of a new one (shared by concurrent callers).
    func currentRoutes() async throws -> Routes {
        enum Next { case ready(Routes), wait(Task<Routes, Error>) }
        let next = try state.withLockedValue { s -> Next in
            if s.closed { throw ChainKVError.network("client is shut down") }
            // The common case: no task and no suspension, just the current routes.
            if let routes = s.routes { return .ready(routes) }
            if let running = s.discovery { return .wait(running) }
            let t = Task { try await self.discoverRoutes() }
            s.discovery = t
            return .wait(t)
        }
        switch next {
        case .ready(let r): return r
        case .wait(let task): return try await task.value
        }
    }

    /// The connection to `server`, dialed if the client holds none. A failed dial asks for the
    /// routes again (the server may be gone) unless `keepingRoutes`.
    func connection(to server: NodeAddress, keepingRoutes: Bool = false) async throws -> Connection {
        let key = ServerKey(host: server.host, port: server.port)
        if let open = state.withLockedValue({ $0.connections[key] }), open.isActive { return open }
        let dialed: Connection
        do {
            dialed = try await connect(host: server.host, port: server.port)
        } catch let error as ChainKVError where error.isUnauthorized {
            throw error
        } catch let error as ChainKVError {
            if !keepingRoutes { invalidateRoutes() }  // the head may be gone
            throw HeadNotFound(error: error, everyServerRefused: false)
        }
        let kept = state.withLockedValue { s -> Connection in
            if let other = s.connections[key], other.isActive { return other }  // dialed meanwhile
            s.connections[key] = dialed
            return dialed
        }
        if kept !== dialed { dialed.close() }
        return kept
    }
}

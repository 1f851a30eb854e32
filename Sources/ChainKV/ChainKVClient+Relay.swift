internal import ChainTransport
internal import ChainWire
internal import NIOCore

/// Reaching a head through another server. A head that does not answer this client (a request
/// timed out, its connection broke, a dial failed) is marked unreachable. While it is, requests
/// for its chain go as `relay` to another member of the chain (its successor first; then any
/// other server), which passes them to the head over its own connection and returns the head's
/// answer. A write keeps its request id inside the relay, so a retry on any path is recognized
/// and never applied twice. A background check dials the marked server every `recheckInterval`
/// and, once it answers a ping, takes the mark away: requests go to it directly again.
///
/// A head that crashed is marked too; its relays fail ("cannot reach the head"), the client
/// asks for the routes again, and the new head the leader names is reached directly.
extension ChainKVClient {
    /// Where one attempt of a request goes.
    enum Target {
        /// The head of the key's chain.
        case head(Connection)
        /// Another server, which relays to the head.
        case relay(Connection)

        var connection: Connection {
            switch self {
            case .head(let c), .relay(let c): return c
            }
        }

        var isRelay: Bool {
            if case .relay = self { return true }
            return false
        }
    }

    /// How often an unreachable server is dialed to see whether it answers again.
    static let recheckInterval = Duration.milliseconds(200)
    /// How long an unreachable server is checked for; after that the mark goes (the next failure
    /// sets it again). A crashed head is replaced within seconds, so this only bounds the work.
    static let recheckLimit = Duration.seconds(60)

    /// Where to send a request for `key`: its chain's head, unless the head is marked unreachable
    /// (or cannot be dialed) and another server can be. Throws `HeadNotFound` when no head is known.
    func target(for key: String) async throws -> (Target, chain: String) {
        let routes = try await currentRoutes()
        // The key's slot is hashed once (FNV-1a over the key: 5 % of a client's CPU per read
        // when it was hashed twice).
        let chain = routes.map.chain(of: key)
        guard let members = routes.chains[chain]?.members, let head = members.first else {
            invalidateRoutes()
            throw HeadNotFound(error: .network("chain \(chain) has no head"), everyServerRefused: false)
        }
        let headKey = ServerKey(host: head.host, port: head.port)
        // The common case in one lock: the head is reachable and connected.
        let (open, unreachable) = state.withLockedValue { s in (s.connections[headKey], s.unreachable) }
        guard options.relayWhenHeadUnreachable else { return (.head(try await connection(to: head)), chain) }
        if !unreachable.contains(headKey) {
            if let open, open.isActive { return (.head(open), chain) }
            do {
                return (.head(try await connection(to: head)), chain)
            } catch let notFound as HeadNotFound {
                markUnreachable(headKey)
                guard let via = try await relayConnection(routes, chain: chain, avoiding: unreachable.union([headKey])) else { throw notFound }
                return (.relay(via), chain)
            }
        }
        if let via = try await relayConnection(routes, chain: chain, avoiding: unreachable) { return (.relay(via), chain) }
        // No other server answers either: the head, after all.
        return (.head(try await connection(to: head)), chain)
    }

    /// A connection to a server that can relay to `chain`'s head: its other members in chain
    /// order, then every other server of the routes, skipping unreachable ones. A server whose
    /// dial fails is marked unreachable and the next is tried. nil: none could be reached.
    private func relayConnection(_ routes: Routes, chain: String, avoiding unreachable: Set<ServerKey>) async throws -> Connection? {
        let members = routes.chains[chain]?.members ?? []
        var seen = Set<ServerKey>()
        for server in members.dropFirst() + routes.servers {
            let key = ServerKey(host: server.host, port: server.port)
            guard !unreachable.contains(key), key != members.first.map({ ServerKey(host: $0.host, port: $0.port) }),
                  seen.insert(key).inserted else { continue }
            do {
                return try await connection(to: server, keepingRoutes: true)
            } catch is HeadNotFound {
                markUnreachable(key)
            }
        }
        return nil
    }

    /// Marks `server` unreachable and starts checking it, unless it is marked already.
    func markUnreachable(_ server: ServerKey) {
        guard options.relayWhenHeadUnreachable else { return }
        let first = state.withLockedValue { s in !s.closed && s.unreachable.insert(server).inserted }
        if first { Task { await self.recheck(server) } }
    }

    /// Dials `server` every `recheckInterval` until it answers a ping (then its mark goes, and the
    /// connection is kept for requests), the client shuts down, or `recheckLimit` passed.
    private func recheck(_ server: ServerKey) async {
        let clock = ContinuousClock()
        let end = clock.now + Self.recheckLimit
        while clock.now < end {
            try? await Task.sleep(for: Self.recheckInterval)
            if isClosed { return }
            guard let connection = try? await dial(host: server.host, port: server.port, timeout: options.probeTimeout) else { continue }
            guard case .pong? = try? await connection.request(.ping(0), timeout: TimeAmount(options.probeTimeout)) else {
                connection.close()
                continue
            }
            let unused = state.withLockedValue { s -> Connection? in
                s.unreachable.remove(server)
                if s.closed { return connection }
                // One connection may have been opened meanwhile: keep the one requests may be on.
                if let other = s.connections[server], other.isActive { return connection }
                s.connections[server] = connection
                return nil
            }
            unused?.close()
            return
        }
        state.withLockedValue { _ = $0.unreachable.remove(server) }
    }
}

internal import ChainTransport
internal import ChainWire
internal import NIOCore

/// Reaching a head through another server. A head that does not answer this client (a request
/// timed out, its connection broke, a dial failed) is marked unreachable. While it is, requests
/// for its chain go as `relay` to another member of the chain (its successor first; then any
/// other server), which passes them to the head over its own connection and returns the head's
/// answer. A write keeps its request id inside the relay, and the relay names the chain the
/// client routed the key to, so a retry on any path reaches the same chain and is recognized
/// there, never applied twice. A server that relayed none of a request's attempts is passed over
/// by that request's later attempts. A background check dials the marked server (every
/// `recheckInterval` at first, then less often) and, once it answers a ping, takes the mark
/// away: requests go to it directly again.
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

        /// The server this attempt goes to.
        var server: ServerKey { ServerKey(host: connection.host, port: connection.port) }

        /// `request` as this target takes it: as it is for the head, inside a `relay` naming
        /// `chain` for another server.
        func message(_ request: Message, chain: String) -> Message {
            isRelay ? .relay(chain: chain, request) : request
        }
    }

    /// `target` (or, relayed, its head) refused an attempt before sequencing it: the routes are
    /// asked for again; a head's connection is retired, a relaying server's stays.
    func refused(by target: Target) {
        if target.isRelay { invalidateRoutes() } else { invalidate(target.connection) }
    }

    /// No answer from `target`: its connection is retired, and its server is marked unreachable
    /// only for what it did itself: its connection broke, or a head was silent (a relaying
    /// server's silence may be its head's).
    func noAnswer(from target: Target, _ error: ChainKVError) {
        invalidate(target.connection)
        if error.isBrokenConnection || (error.isTimeout && !target.isRelay) { markUnreachable(target.server) }
    }

    /// How soon an unreachable server is dialed to see whether it answers again; each failed
    /// check doubles the wait, up to `recheckIntervalMax`. A check that dials a silent server
    /// also waits up to `probeTimeout` for the dial.
    static let recheckInterval = Duration.milliseconds(200)
    static let recheckIntervalMax = Duration.seconds(2)

    /// Where to send a request for `key`: its chain's head, unless the head is marked unreachable
    /// (or cannot be dialed) and another server can be, other than those in `skipping` if any
    /// other can. Throws `HeadNotFound` when no head is known.
    func target(for key: String, skipping: Set<ServerKey> = []) async throws -> (Target, chain: String) {
        let routes = try await currentRoutes()
        // The key's slot is hashed once (FNV-1a over the key: 5 % of a client's CPU per read
        // when it was hashed twice).
        let chain = routes.map.chain(of: key)
        return (try await target(chain: chain, routes: routes, skipping: skipping), chain)
    }

    /// Where to send a request for chain `chain` (as `target(for:skipping:)`).
    func target(chain: String, routes: Routes, skipping: Set<ServerKey> = []) async throws -> Target {
        guard let members = routes.chains[chain]?.members, let head = members.first else {
            invalidateRoutes()
            throw HeadNotFound(error: .network("chain \(chain) has no head"), everyServerRefused: false)
        }
        guard options.relayWhenHeadUnreachable else { return .head(try await connection(to: head)) }
        let headKey = ServerKey(host: head.host, port: head.port)
        // The common case in one lock: the head is reachable and connected.
        let (open, headUnreachable) = state.withLockedValue { s in
            (s.connections[headKey], !s.unreachable.isEmpty && s.unreachable.contains(headKey))
        }
        if !headUnreachable {
            if let open, open.isActive { return .head(open) }
            do {
                return .head(try await connection(to: head))
            } catch let notFound as HeadNotFound {
                markUnreachable(headKey)
                guard let via = try await relayConnection(routes, chain: chain, skipping: skipping) else { throw notFound }
                return .relay(via)
            }
        }
        if let via = try await relayConnection(routes, chain: chain, skipping: skipping) { return .relay(via) }
        // No other server answers either: the head, after all.
        return .head(try await connection(to: head))
    }

    /// A connection to a server that can relay to `chain`'s head: its other members in chain
    /// order, then every other server of the routes; those marked unreachable are left out, and
    /// those in `skipping` come last. A server whose dial fails is marked unreachable and the
    /// next is tried. nil: none could be reached.
    private func relayConnection(_ routes: Routes, chain: String, skipping: Set<ServerKey>) async throws -> Connection? {
        let members = routes.chains[chain]?.members ?? []
        let head = members.first.map { ServerKey(host: $0.host, port: $0.port) }
        let unreachable = state.withLockedValue { $0.unreachable }
        var seen = Set<ServerKey>()
        var candidates: [(NodeAddress, ServerKey)] = []
        for server in members.dropFirst() + routes.servers {
            let key = ServerKey(host: server.host, port: server.port)
            guard key != head, !unreachable.contains(key), seen.insert(key).inserted else { continue }
            candidates.append((server, key))
        }
        let ordered = candidates.filter { !skipping.contains($0.1) } + candidates.filter { skipping.contains($0.1) }
        for (server, key) in ordered {
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

    /// Dials `server` until it answers a ping (then its mark goes, and the connection is kept for
    /// requests), the client shuts down, or the routes no longer name it (nothing is routed to
    /// it then; the mark goes too).
    private func recheck(_ server: ServerKey) async {
        var interval = Self.recheckInterval
        while true {
            try? await Task.sleep(for: interval)
            interval = min(interval * 2, Self.recheckIntervalMax)
            let named = state.withLockedValue { s -> Bool? in
                if s.closed { return nil }
                guard let routes = s.routes else { return true }  // being found again: keep checking
                return routes.servers.contains { $0.host == server.host && $0.port == server.port }
            }
            guard let named else { return }
            guard named else { break }
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

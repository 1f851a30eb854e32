internal import ChainTransport
internal import NIOConcurrencyHelpers
internal import NIOCore

/// The client's connections: opening one (registered until it closes, so that `shutdown()` finds
/// it), and retiring one or the routes after a failure.
extension ChainKVClient {
    /// Stops using `connection` for new requests and asks for the routes again. It closes after
    /// the request timeout, so the replies of requests still in flight on it (often "not the
    /// head": safe to retry) arrive.
    func invalidate(_ connection: Connection) {
        state.withLockedValue { s in
            let key = ServerKey(host: connection.host, port: connection.port)
            if s.connections[key] === connection { s.connections[key] = nil }
            s.routes = nil
        }
        connection.channel.eventLoop.scheduleTask(in: TimeAmount(options.requestTimeout)) { connection.close() }
    }

    /// Whether `shutdown` (or `beginShutdown`) was called.
    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// The next request asks the servers for the slot map and heads again.
    func invalidateRoutes() {
        state.withLockedValue { $0.routes = nil }
    }

    func connect(host: String, port: Int) async throws -> Connection {
        do {
            return try await dial(host: host, port: port, timeout: options.connectTimeout)
        } catch let error as ChainKVError where error.isUnauthorized {
            throw error
        } catch {
            throw ChainKVError.network("cannot connect to \(host):\(port): \(error)")
        }
    }

    /// Opens a connection and registers it in `State.open` until it closes, so that `shutdown()`
    /// finds it. Fails at once when the client is shut down; a connection that completes after
    /// the shutdown began is closed.
    func dial(host: String, port: Int, timeout: Duration) async throws -> Connection {
        try state.withLockedValue { s in
            if s.closed { throw ChainKVError.network("client is shut down") }
            s.dialing += 1
        }
        let result: Result<Connection, Error>
        do {
            result = .success(try await Connection.connect(host: host, port: port, group: loop, timeout: TimeAmount(timeout),
                                                           security: options.security))
        } catch {
            result = .failure(error)
        }
        let (closed, waiters) = state.withLockedValue { s -> (Bool, [CheckedContinuation<Void, Never>]) in
            if case .success(let c) = result { s.open[ObjectIdentifier(c)] = c }
            s.dialing -= 1
            guard s.dialing == 0 else { return (s.closed, []) }
            defer { s.dialsEnded = [] }
            return (s.closed, s.dialsEnded)
        }
        for w in waiters { w.resume() }
        let connection = try result.get()
        let state = self.state
        connection.channel.closeFuture.whenComplete { _ in
            state.withLockedValue { _ = $0.open.removeValue(forKey: ObjectIdentifier(connection)) }
        }
        if closed {
            connection.close()
            throw ChainKVError.network("client is shut down")
        }
        return connection
    }
}

/// A server's connection in `ChainKVClient.State.connections`: a request looks its head's up by
/// host and port as they are, with no "host:port" string formatted per request.
struct ServerKey: Hashable {
    let host: String
    let port: Int
}

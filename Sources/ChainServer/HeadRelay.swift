import ChainCore
import ChainTransport
import ChainWire
import Logging
import NIOCore

/// Passes keyed client requests (`Message.relay`) on to the head of their chain, for a client that
/// reaches this server but not that head: a link cut between the two, while the head still holds
/// its chain (its peers and ZooKeeper reach it, so nobody replaces it). ZooKeeper's and etcd's
/// followers forward to their leader for the same reason.
///
/// Contract, which the client's retries rest on:
/// - `unavailable` or `overloaded` from here: the request was not sent to the head (no head
///   known, its dial failed, too many relays waiting); nothing was applied.
/// - `chainChanged` from here: a write was sent and no answer came within `answerTimeout`; it
///   may have been applied. The client retries it under the same request id, which the head
///   recognizes, through whichever path it takes next.
/// - Any other reply is the head's own, passed on as it is.
///
/// One connection per head, dialed on first use and again after it closes or a request on it
/// timed out (a head that stopped answering is not waited on twice). Confined to the server's loop.
final class HeadRelay: @unchecked Sendable {
    /// Relayed requests awaiting a head's answer or a dial, at once: more are refused `overloaded`.
    static let inFlightMax = 1024
    /// A dial to a head, handshakes included: below a client's default request timeout (1 s), so
    /// that the client hears why from here rather than timing out on this server too.
    static let dialTimeout = TimeAmount.milliseconds(500)
    /// How long a relayed request waits for the head's answer: below a client's default request
    /// timeout, for the same reason.
    static let answerTimeout = TimeAmount.milliseconds(800)

    private let loop: EventLoop
    private let security: ConnectionSecurity
    private let logger: Logger
    /// Sends a reply to the client that asked, and flushes it.
    private let deliver: (Message, ClientRef) -> Void
    /// Open connections, by the head's "host:port".
    private var connections: [String: Connection] = [:]
    /// Requests for a head being dialed, by its "host:port".
    private var waiting: [String: [(request: Message, ref: ClientRef)]] = [:]
    /// Requests accepted and not yet answered (waiting for a dial or for the head).
    private(set) var inFlight = 0
    private var closed = false

    init(loop: EventLoop, security: ConnectionSecurity, logger: Logger, deliver: @escaping (Message, ClientRef) -> Void) {
        self.loop = loop
        self.security = security
        self.logger = logger
        self.deliver = deliver
    }

    /// Sends `request` to the head at `head` and its answer to `ref`.
    func relay(_ request: Message, to head: NodeAddress, for ref: ClientRef) {
        loop.preconditionInEventLoop()
        precondition(request.isRelayable, "only keyed client requests are relayed")
        guard !closed else { return deliver(.error(.unavailable, "this server is stopping"), ref) }
        guard inFlight < Self.inFlightMax else {
            return deliver(.error(.overloaded, "\(Self.inFlightMax) relayed requests are waiting for heads; retry"), ref)
        }
        inFlight += 1
        let key = head.hostPort
        if let connection = connections[key], connection.isActive { return send(request, on: connection, for: ref) }
        connections[key] = nil
        if waiting[key] != nil { return waiting[key]!.append((request, ref)) }
        waiting[key] = [(request, ref)]
        dial(head)
    }

    /// Closes every connection; relays waiting on them are answered as their connections fail.
    func close() {
        loop.preconditionInEventLoop()
        closed = true
        for connection in connections.values { connection.close() }
        connections = [:]
    }

    private func dial(_ head: NodeAddress) {
        let (loop, security) = (self.loop, self.security)
        Task {
            let result: Result<Connection, Error>
            do {
                // On the server's own loop, so that answers need no hop back to it.
                result = .success(try await Connection.connect(host: head.host, port: head.port, group: loop,
                                                               timeout: Self.dialTimeout, security: security))
            } catch {
                result = .failure(error)
            }
            loop.execute { self.dialed(head, result) }
        }
    }

    private func dialed(_ head: NodeAddress, _ result: Result<Connection, Error>) {
        let key = head.hostPort
        let queued = waiting.removeValue(forKey: key) ?? []
        switch result {
        case .success(let connection) where !closed:
            connections[key] = connection
            for (request, ref) in queued { send(request, on: connection, for: ref) }
        case .success(let connection):
            connection.close()
            answer(queued, .error(.unavailable, "this server is stopping"))
        case .failure(let error):
            logger.debug("cannot reach the head to relay to", metadata: ["head": "\(key)", "error": "\(error)"])
            // Nothing was sent: the client may retry anywhere.
            answer(queued, .error(.unavailable, "cannot reach the head at \(key) to relay to: \(error)"))
        }
    }

    private func answer(_ queued: [(request: Message, ref: ClientRef)], _ reply: Message) {
        inFlight -= queued.count
        for (_, ref) in queued { deliver(reply, ref) }
    }

    private func send(_ request: Message, on connection: Connection, for ref: ClientRef) {
        connection.send(request, timeout: Self.answerTimeout).hop(to: loop).whenComplete { result in
            self.inFlight -= 1
            switch result {
            case .success(let reply):
                self.deliver(reply, ref)
            case .failure(let error):
                if case ChainKVError.timeout = error { self.drop(connection) }
                self.deliver(Self.unanswered(request, at: connection.address, error), ref)
            }
        }
    }

    /// A connection on which a request timed out: the next relay dials afresh, and fails fast
    /// if the head is gone, instead of waiting out another timeout on a link that went silent.
    private func drop(_ connection: Connection) {
        if connections[connection.address] === connection { connections[connection.address] = nil }
        connection.close()
    }

    /// The reply for a request sent to the head that brought no answer: a read was not applied
    /// anywhere; a write may have been.
    static func unanswered(_ request: Message, at head: String, _ error: Error) -> Message {
        switch request {
        case .get, .getVersioned: return .error(.unavailable, "relayed to the head at \(head), which did not answer: \(error)")
        default: return .error(.chainChanged, "relayed to the head at \(head), which did not answer; the write may have been applied: \(error)")
        }
    }
}

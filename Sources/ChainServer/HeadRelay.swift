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
/// - `overloaded` from here, or `unavailable` for a write: the request was not sent to the head
///   (no head known, its dial failed or took the request's whole time, too many relays
///   waiting); nothing was applied.
/// - `chainChanged` from here: a write was sent (or may have been) and no answer came within
///   `answerTimeout` of its arrival here; it may have been applied. The client retries it under
///   the same request id, which the head recognizes, through whichever path it takes next.
/// - `unavailable` for a read: no answer from the head, whether it was sent or not (a read
///   changes nothing).
/// - Any other reply is the head's own, passed on as it is.
///
/// One connection per head, dialed on first use and again after it closes or went silent (a
/// request on it timed out with nothing received since it was sent: a head that stopped
/// answering is not waited on twice, while one slow write does not fail the others in flight).
/// Confined to the server's loop.
final class HeadRelay: @unchecked Sendable {
    /// Relayed requests awaiting a head's answer or a dial, at once: more are refused `overloaded`.
    static let inFlightMax = 1024
    /// A dial to a head, handshakes included: below a client's default request timeout (1 s), so
    /// that the client hears why from here rather than timing out on this server too.
    static let dialTimeout = TimeAmount.milliseconds(500)
    /// How long a relayed request may take here, from its arrival (a dial included) to the head's
    /// answer: below a client's default request timeout, for the same reason. A watch's poll
    /// may also wait its `waitMs` at the head (the client's own timeout counts that wait too).
    static let answerTimeout = TimeAmount.milliseconds(800)

    /// How long `request` may take from its arrival here.
    static func budget(_ request: Message) -> TimeAmount {
        guard case .relayed(_, .watch(_, _, _, _, let waitMs)) = request else { return answerTimeout }
        return answerTimeout + .milliseconds(Int64(min(waitMs, WireLimits.watchWaitMsMax)))
    }

    private let gate: LoopGate
    private var loop: EventLoop { gate.loop }
    private let security: ConnectionSecurity
    private let logger: Logger
    /// Sends a reply to the client that asked, and flushes it.
    private let deliver: (Message, ClientRef) -> Void
    /// Open connections, by the head's "host:port".
    private var connections: [String: Connection] = [:]
    /// Requests for a head being dialed, by its "host:port", with when each arrived.
    private var waiting: [String: [Waiting]] = [:]
    /// When each connection last brought an answer, by the head's "host:port".
    private var lastAnswer: [String: NIODeadline] = [:]

    private struct Waiting {
        var request: Message
        var ref: ClientRef
        var arrived: NIODeadline
    }
    /// Requests accepted and not yet answered (waiting for a dial or for the head).
    private(set) var inFlight = 0
    private var closed = false

    init(gate: LoopGate, security: ConnectionSecurity, logger: Logger, deliver: @escaping (Message, ClientRef) -> Void) {
        self.gate = gate
        self.security = security
        self.logger = logger
        self.deliver = deliver
    }

    /// Sends `request` (a `relayed` one) to the head at `head` and its answer to `ref`.
    func relay(_ request: Message, to head: NodeAddress, for ref: ClientRef) {
        loop.preconditionInEventLoop()
        precondition(request.kind == .relayed, "a relay's second hop is a `relayed` request")
        guard !closed else { return deliver(.error(.unavailable, "this server is stopping"), ref) }
        guard inFlight < Self.inFlightMax else {
            return deliver(.error(.overloaded, "\(Self.inFlightMax) relayed requests are waiting for heads; retry"), ref)
        }
        inFlight += 1
        let key = head.hostPort
        let entry = Waiting(request: request, ref: ref, arrived: loop.now)
        if let connection = connections[key], connection.isActive { return send(entry, on: connection) }
        connections[key] = nil
        if waiting[key] != nil { return waiting[key]!.append(entry) }
        waiting[key] = [entry]
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
        let (loop, gate, security) = (self.loop, self.gate, self.security)
        Task {
            let result: Result<Connection, Error>
            do {
                // On the server's own loop, so that answers need no hop back to it.
                result = .success(try await Connection.connect(host: head.host, port: head.port, group: loop,
                                                               timeout: Self.dialTimeout, security: security))
            } catch {
                result = .failure(error)
            }
            gate.execute { self.dialed(head, result) }
        }
    }

    private func dialed(_ head: NodeAddress, _ result: Result<Connection, Error>) {
        let key = head.hostPort
        let queued = waiting.removeValue(forKey: key) ?? []
        switch result {
        case .success(let connection) where !closed:
            connections[key] = connection
            for entry in queued { send(entry, on: connection) }
        case .success(let connection):
            connection.close()
            answer(queued, .error(.unavailable, "this server is stopping"))
        case .failure(let error):
            logger.debug("cannot reach the head to relay to", metadata: ["head": "\(key)", "error": "\(error)"])
            // Nothing was sent: the client may retry anywhere.
            answer(queued, .error(.unavailable, "cannot reach the head at \(key) to relay to: \(error)"))
        }
    }

    private func answer(_ queued: [Waiting], _ reply: Message) {
        inFlight -= queued.count
        for entry in queued { deliver(reply, entry.ref) }
    }

    private func send(_ entry: Waiting, on connection: Connection) {
        let sent = loop.now
        let left = entry.arrived + Self.budget(entry.request) - sent
        guard left > .zero else {
            // The dial took the request's whole time: nothing was sent.
            inFlight -= 1
            return deliver(.error(.unavailable, "the dial to the head at \(connection.address) took the relay's whole time"), entry.ref)
        }
        connection.send(entry.request, timeout: left).hop(to: loop).whenComplete { result in
            self.inFlight -= 1
            switch result {
            case .success(let reply):
                self.lastAnswer[connection.address] = self.loop.now
                self.deliver(reply, entry.ref)
            case .failure(let error):
                if case ChainKVError.timeout = error { self.dropIfSilent(connection, since: sent) }
                self.deliver(Self.unanswered(entry.request, at: connection.address, error), entry.ref)
            }
        }
    }

    /// A connection on which a request timed out and nothing arrived since it was sent: the next
    /// relay dials afresh, and fails fast if the head is gone, instead of waiting out another
    /// timeout on a link that went silent.
    private func dropIfSilent(_ connection: Connection, since sent: NIODeadline) {
        let key = connection.address
        guard connections[key] === connection, lastAnswer[key] ?? .distantPast < sent else { return }
        connections[key] = nil
        lastAnswer[key] = nil
        connection.close()
    }

    /// The reply for a request sent to the head that brought no answer: a read was not applied
    /// anywhere; a write may have been.
    static func unanswered(_ request: Message, at head: String, _ error: Error) -> Message {
        switch request {
        case .relayed(_, .get), .relayed(_, .getVersioned), .relayed(_, .scan), .relayed(_, .watch): return .error(.unavailable, "relayed to the head at \(head), which did not answer: \(error)")
        default: return .error(.chainChanged, "relayed to the head at \(head), which did not answer; the write may have been applied: \(error)")
        }
    }
}

import ChainCore
import ChainTransport
import ChainWire
import NIOCore

/// One peer watched with heartbeats: a connection kept open, a status request on it every beat,
/// and what that shows reported to the owner: an answer (with the peer's status), or a refused
/// dial, which means nothing listens on its port, so its process is gone (a server listens
/// before it registers and stops only as it exits). The owner keeps the clock: it calls `beat`
/// every interval and judges silence from `lastAnswer`. Used by the leader's links (one per
/// member) and a candidate's watch on the candidate below it. Confined to the loop.
final class PeerProbe: @unchecked Sendable {
    let address: NodeAddress
    private let gate: LoopGate
    private var loop: EventLoop { gate.loop }
    private let group: EventLoopGroup
    private let security: ConnectionSecurity
    private let interval: TimeAmount
    private let onAnswer: (NodeStatus) -> Void
    private let onRefused: () -> Void
    private var connection: Connection?
    private var dialing = false
    private var lastDial = NIODeadline.distantPast
    private var closed = false
    /// When the peer last answered (or the probe started), moved forward for our own stalls.
    private(set) var lastAnswer: NIODeadline

    init(address: NodeAddress, gate: LoopGate, group: EventLoopGroup, security: ConnectionSecurity, interval: TimeAmount,
         onAnswer: @escaping (NodeStatus) -> Void, onRefused: @escaping () -> Void) {
        self.address = address
        self.gate = gate
        self.group = group
        self.security = security
        self.interval = interval
        self.onAnswer = onAnswer
        self.onRefused = onRefused
        self.lastAnswer = gate.loop.now
    }

    /// One heartbeat: a status request on the open connection, or a dial if there is none.
    func beat() {
        guard !closed else { return }
        if let connection, connection.isActive {
            ping(connection)
        } else if !dialing {
            dial()
        }
    }

    /// This server did not run for `stall` (see BeatClock): the peer's silence then was ours.
    func excuse(_ stall: TimeAmount) {
        lastAnswer = lastAnswer + stall
    }

    func close() {
        closed = true
        connection?.close()
        connection = nil
    }

    private func dial() {
        dialing = true
        lastDial = loop.now
        let (address, group, security, gate) = (self.address, self.group, self.security, self.gate)
        // The connect timeout covers the handshakes too: give TLS and authentication a second at least.
        let timeout = max(interval, .seconds(1))
        Task {
            do {
                let connection = try await Connection.connect(host: address.host, port: address.port, group: group,
                                                              timeout: timeout, security: security)
                gate.execute { self.connected(connection) }
            } catch {
                let refused = isConnectionRefused(error)
                gate.execute {
                    self.dialing = false
                    if refused, !self.closed { self.onRefused() }
                }
            }
        }
    }

    private func connected(_ connection: Connection) {
        dialing = false
        guard !closed else { return connection.close() }
        self.connection = connection
        redialWhenClosed(connection)
        ping(connection)
    }

    /// A connection that drops is dialed again at once rather than at the next beat: a crashed
    /// peer's connections close the moment its process dies, and the port refusing the new dial
    /// is the evidence `onRefused` acts on. At most one dial per interval, so a peer that accepts
    /// and closes at once (over its connection limit) is not dialed in a tight loop.
    private func redialWhenClosed(_ connection: Connection) {
        connection.channel.closeFuture.whenComplete { [weak self] _ in
            self?.gate.execute { [weak self] in
                guard let self, self.connection === connection else { return }
                self.connection = nil
                guard !self.closed, !self.dialing, self.loop.now - self.lastDial >= self.interval else { return }
                self.dial()
            }
        }
    }

    /// A heartbeat is a status request: the reply also says how far the peer is.
    private func ping(_ connection: Connection) {
        let (gate, timeout) = (self.gate, interval * 2)
        Task {
            guard case .statusReply(let status)? = try? await connection.request(.status, timeout: timeout) else { return }
            gate.execute {
                guard self.connection === connection, !self.closed else { return }
                self.lastAnswer = gate.loop.now
                self.onAnswer(status)
            }
        }
    }
}

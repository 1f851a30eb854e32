import ChainCoordination
import ChainCore
import ChainTransport
import ChainWire
import NIOCore

/// A server's watch on the election candidate just below it (for the second candidate: the
/// leader). ZooKeeper removes a crashed candidate's election znode only when its session times
/// out; this keeps one connection to that candidate's server, pings it like the leader pings
/// members, and asks for the znode to be removed at once when a dial is refused (its process is
/// gone) or when it answers no ping for the heartbeat timeout (paused, stuck). The next
/// candidate then takes over without waiting for the session timeout: when the leader is also
/// the head, the whole failover waits for the new leader. Removing a live leader's znode is safe:
/// it stops leading when it sees that, and its chain writes fail their version check once the
/// new leader wrote. Confined to the node's loop.
final class CandidateWatch: CandidateWatching, @unchecked Sendable {
    let candidate: ElectionPeer
    private let address: NodeAddress
    private let loop: EventLoop
    private let group: EventLoopGroup
    private let security: ConnectionSecurity
    private let onGone: @Sendable (ElectionPeer, _ why: String) -> Void
    private var connection: Connection?
    private var lastDial = NIODeadline.distantPast
    private var lastPong = NIODeadline.now()
    /// Excuses the candidate for this server's own stalls.
    private var clock: BeatClock
    private var closed = false
    private let interval: TimeAmount
    private let limit: TimeAmount
    private var timer: RepeatedTask?

    /// Least time between two dials: a candidate that accepts and closes at once (over its
    /// connection limit) is not dialed in a tight loop.
    static let redialGap = TimeAmount.milliseconds(200)
    static let connectTimeout = TimeAmount.seconds(2)

    init(candidate: ElectionPeer, address: NodeAddress, loop: EventLoop, group: EventLoopGroup, security: ConnectionSecurity,
         interval: TimeAmount, limit: TimeAmount, onGone: @escaping @Sendable (ElectionPeer, _ why: String) -> Void) {
        self.interval = interval
        self.clock = BeatClock(interval: interval)
        self.limit = limit
        self.candidate = candidate
        self.address = address
        self.loop = loop
        self.group = group
        self.security = security
        self.onGone = onGone
        loop.execute {
            self.dial()
            self.timer = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in self.beat() }
        }
    }

    func close() {
        loop.preconditionInEventLoop()
        closed = true
        timer?.cancel()
        connection?.close()
        connection = nil
    }

    private func beat() {
        guard !closed else { return }
        let now = NIODeadline.now()
        lastPong = lastPong + clock.beat(now: now)
        if now - lastPong > limit {
            return gone("answered no ping for \(limit.nanoseconds / 1_000_000) ms")
        }
        guard let connection else { return }
        let (loop, timeout) = (self.loop, interval * 2)
        Task {
            guard case .statusReply? = try? await connection.request(.status, timeout: timeout) else { return }
            loop.execute { if self.connection === connection { self.lastPong = .now() } }
        }
    }

    private func dial() {
        guard !closed else { return }
        lastDial = .now()
        let (address, group, security, loop) = (self.address, self.group, self.security, self.loop)
        Task {
            do {
                let connection = try await Connection.connect(host: address.host, port: address.port, group: group,
                                                              timeout: Self.connectTimeout, security: security)
                loop.execute { self.connected(connection) }
            } catch {
                let refused = isConnectionRefused(error)
                loop.execute { refused ? self.gone("its port refuses connections") : self.dialLater() }
            }
        }
    }

    private func connected(_ connection: Connection) {
        guard !closed else { return connection.close() }
        self.connection = connection
        connection.channel.closeFuture.whenComplete { _ in
            self.loop.execute {
                guard self.connection === connection else { return }
                self.connection = nil
                self.dialLater()
            }
        }
    }

    private func dialLater() {
        guard !closed else { return }
        let wait = Self.redialGap - (NIODeadline.now() - lastDial)
        if wait <= .zero { return dial() }
        loop.scheduleTask(in: wait) { self.dial() }
    }

    private func gone(_ why: String) {
        guard !closed else { return }
        close()
        onGone(candidate, why)
    }
}

import ChainCore
import ChainTransport
import ChainWire
import Logging
import NIOCore

/// The leader's links to every member: periodic pings (the paper's heartbeats) and control
/// requests such as StartTransfer. A member whose pings fail for longer than the configured limit
/// is reported unresponsive, so a hung or paused server leaves the chain even while its ZooKeeper
/// session lives on; one whose port refuses a dial (a crashed process) is reported at once.
/// Confined to the node's loop.
final class LeaderLinks: MemberLinks, @unchecked Sendable {
    private let context: ShellContext
    private let group: EventLoopGroup
    private let security: ConnectionSecurity
    /// Where `unresponsive`, `responsive` and `progress` go (the leader shell), on the loop.
    private let report: (LeaderEvent) -> Void
    private var links: [NodeID: Link] = [:]
    private var timer: RepeatedTask?
    /// Excuses members for this server's own stalls.
    private var clock: BeatClock
    private let interval: TimeAmount
    private let limit: TimeAmount

    private struct Link {
        var address: NodeAddress
        var connection: Connection?
        var connecting = false
        var lastPong: NIODeadline
        var lastDial = NIODeadline.distantPast
        var suspected = false
    }

    init(context: ShellContext, group: EventLoopGroup, security: ConnectionSecurity, interval: TimeAmount, limit: TimeAmount,
         report: @escaping (LeaderEvent) -> Void) {
        self.context = context
        self.group = group
        self.security = security
        self.report = report
        self.interval = interval
        self.clock = BeatClock(interval: interval)
        self.limit = limit
        timer = context.loop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [weak self] _ in self?.beat() }
    }

    /// Keeps one link per registered member; links of members that left are closed.
    func update(members: [NodeID: NodeAddress]) {
        for (id, link) in links where members[id] == nil || members[id] != link.address {
            link.connection?.close()
            links[id] = nil
        }
        for (id, address) in members where links[id] == nil {
            links[id] = Link(address: address, lastPong: .now())
        }
    }

    /// Marks a member already reported unresponsive by other means, so that its next answer is
    /// reported as `responsive`.
    func suspect(_ id: NodeID) {
        links[id]?.suspected = true
    }

    func close() {
        timer?.cancel()
        for link in links.values { link.connection?.close() }
        links.removeAll()
    }

    /// Sends `message` to `member` on a connection of its own and waits for the reply.
    func request(_ message: Message, to member: NodeID, timeout: TimeAmount) -> EventLoopFuture<Message> {
        let promise = context.loop.makePromise(of: Message.self)
        guard let address = links[member]?.address else {
            promise.fail(TransferError("no link to \(member)"))
            return promise.futureResult
        }
        let (group, security) = (self.group, self.security)
        promise.completeWithTask {
            // A dedicated connection: a long transfer must not delay heartbeats queued behind it.
            let connection = try await Connection.connect(host: address.host, port: address.port, group: group, timeout: .seconds(2),
                                                          security: security)
            defer { connection.close() }
            return try await connection.request(message, timeout: timeout)
        }
        return promise.futureResult
    }

    private func beat() {
        let now = NIODeadline.now()
        let stall = clock.beat(now: now)
        if stall > .zero {
            for (id, link) in links { links[id]?.lastPong = link.lastPong + stall }
        }
        for (id, link) in links {
            if !link.suspected && now - link.lastPong > limit {
                links[id]?.suspected = true
                context.logger.warning("member missed heartbeats; reporting it unresponsive",
                                    metadata: ["member": "\(id)", "silentMs": "\((now - link.lastPong).nanoseconds / 1_000_000)"])
                report(.unresponsive(id))
            }
            if let connection = link.connection, connection.isActive {
                ping(id, connection)
            } else if !link.connecting {
                links[id]?.connecting = true
                connect(id, link.address)
            }
        }
    }

    private func connect(_ id: NodeID, _ address: NodeAddress) {
        links[id]?.lastDial = .now()
        let (group, loop, timeout, security) = (self.group, context.loop, interval, self.security)
        Task {
            var refused = false
            let connection: Connection?
            do {
                // The connect timeout covers the handshakes too: give TLS and authentication a second at least.
                connection = try await Connection.connect(host: address.host, port: address.port, group: group,
                                                          timeout: max(timeout, .seconds(1)), security: security)
            } catch {
                connection = nil
                refused = isConnectionRefused(error)
            }
            loop.execute {
                guard self.links[id]?.address == address else { connection?.close(); return }
                self.links[id]?.connecting = false
                self.links[id]?.connection = connection
                if let connection {
                    self.redialWhenClosed(id, connection)
                    self.ping(id, connection)
                } else if refused {
                    self.refused(id)
                }
            }
        }
    }

    /// A link that drops is dialed again at once rather than at the next beat: a crashed
    /// member's connections close the moment its process dies, and the port refusing the new
    /// dial is the evidence `refused` acts on. At most one early dial per interval, so a member
    /// that accepts and closes at once (over its connection limit) is not dialed in a tight loop.
    private func redialWhenClosed(_ id: NodeID, _ connection: Connection) {
        let loop = context.loop
        connection.channel.closeFuture.whenComplete { [weak self] _ in
            loop.execute {
                guard let self, let link = self.links[id], link.connection === connection else { return }
                self.links[id]?.connection = nil
                guard !link.connecting, NIODeadline.now() - link.lastDial >= self.interval else { return }
                self.links[id]?.connecting = true
                self.connect(id, link.address)
            }
        }
    }

    /// The member's port refused the connection: nothing listens there, so its process is gone
    /// (a server listens before it registers and stops only as it exits). Reported at once,
    /// instead of after `limit` without answers; for a head the leader still fences it first, as
    /// a firewall rejecting with a reset looks the same. A new run of the member answers pings
    /// again and is reported responsive then.
    private func refused(_ id: NodeID) {
        guard let link = links[id], !link.suspected else { return }
        links[id]?.suspected = true
        context.logger.warning("member's port refuses connections: its process is gone; reporting it unresponsive now",
                            metadata: ["member": "\(id)", "address": "\(link.address.host):\(link.address.port)"])
        report(.unresponsive(id))
    }

    /// A heartbeat is a status request: the reply also tells the leader how far the member is,
    /// which is how it learns that a joiner caught up (`Leader.Progress`).
    private func ping(_ id: NodeID, _ connection: Connection) {
        let (loop, timeout) = (context.loop, interval * 2)
        Task {
            guard case .statusReply(let status)? = try? await connection.request(.status, timeout: timeout) else { return }
            loop.execute {
                guard self.links[id]?.connection === connection else { return }
                self.links[id]?.lastPong = .now()
                self.report(.progress(id, .init(epoch: status.epoch, received: status.received, durable: status.durable)))
                if self.links[id]?.suspected == true {
                    self.links[id]?.suspected = false
                    self.context.logger.notice("member answers heartbeats again", metadata: ["member": "\(id)"])
                    self.report(.responsive(id))
                }
            }
        }
    }
}

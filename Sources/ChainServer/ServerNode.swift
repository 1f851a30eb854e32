import ChainCoordination
import ChainCore
import ChainStorage
import ChainTransport
import ChainWire
import Foundation
import Logging
import NIOCore

/// One server's shells and the routing between them and the network: requests and peer
/// messages from `ConnectionHandler` go to the replica shell (puts, gets, replication), the
/// snapshot receiver or the transfer source (ServerNode+Transfer); ZooKeeper's events go to both
/// shells (ServerNode+Coordination). It holds no protocol state of its own.
///
/// Every mutable field of every shell is confined to `context.loop`, the one event loop that
/// also runs every channel of this server, so handlers call in directly and each core sees one
/// event at a time.
final class ServerNode: @unchecked Sendable {
    let context: ShellContext
    let config: ServerConfig
    /// Shared secret, TLS and ZooKeeper digest from the configuration; `security.outbound` is
    /// what every connection this server dials uses.
    let security: ServerSecurity
    /// This run of the server, as registered in ZooKeeper.
    let member: MemberInfo
    let replica: ReplicaShell
    let leader: LeaderShell
    let snapshots: SnapshotReceiver
    /// The read lease and the fence wait derived from it.
    let leaseTiming: LeaseTiming
    /// The group the loop belongs to, for outbound connections of transfers and control.
    let group: EventLoopGroup
    let databasePath: String
    /// Set once ZooKeeper is connected.
    var coordination: CoordinationDriver?
    /// Set once the member znode is created: lease renewals then also check it still exists.
    var registered = false
    var exitRequested: (@Sendable (_ clean: Bool) -> Void)?

    init(loop: EventLoop, group: EventLoopGroup, config: ServerConfig, security: ServerSecurity, databasePath: String,
         storage: ReplicaStorage, lastSeq: UInt64, epoch: UInt64, requests: [(RequestID, seq: UInt64)], logger: Logger) {
        // Storage must keep outcomes as long as the core remembers requests, or a retry the core
        // would have recognized before a restart is applied again after it.
        precondition(Store.outcomesKeptMax == UInt64(CoreLimits.requestsRememberedMax), "outcome windows differ")
        let own = NodeAddress(id: config.id, host: config.host, port: config.port)
        let context = ShellContext(loop: loop, outbox: Outbox(), addresses: AddressBook(own: own), metrics: ServerMetrics(), logger: logger)
        let leaseTiming = LeaseTiming(leaseMs: UInt64(config.leaseMs))
        self.context = context
        self.config = config
        self.security = security
        self.member = MemberInfo(id: config.id, host: config.host, port: config.port)
        self.leaseTiming = leaseTiming
        self.group = group
        self.databasePath = databasePath
        let outbound = security.outbound
        replica = ReplicaShell(id: config.id, context: context, storage: storage, lastSeq: lastSeq, durableEpoch: epoch,
                               requests: requests, leaseMs: leaseTiming.leaseMs,
                               connectSuccessor: { node, shell in
                                   SuccessorLink(node: node, context: context, security: outbound, delegate: shell)
                               },
                               fail: { exitLikeACrash() })
        let interval = TimeAmount.milliseconds(Int64(config.heartbeatIntervalMs))
        let limit = TimeAmount.milliseconds(Int64(config.heartbeatTimeoutMs))
        let dialer = LeaderDialer(
            members: { report in
                LeaderLinks(context: context, group: group, security: outbound, interval: interval, limit: limit, report: report)
            },
            candidate: { candidate, address, onGone in
                CandidateWatch(candidate: candidate, address: address, loop: loop, group: group, security: outbound,
                               interval: interval, limit: limit, onGone: onGone)
            })
        let tickMs = ShellContext.tickMs
        leader = LeaderShell(id: config.id,
                             config: .init(expectedMembers: config.expectedMembers,
                                           formationTicks: UInt64(config.formationTimeoutMs) / tickMs,
                                           transferTicks: UInt64(LeaderShell.transferTimeout.nanoseconds / 1_000_000) / tickMs,
                                           fenceTicks: leaseTiming.fenceTicks(tickMs: tickMs)),
                             fenceWait: .milliseconds(Int64(leaseTiming.fenceWaitMs)), context: context, dialer: dialer)
        snapshots = SnapshotReceiver(replica: replica)
    }

    var loop: EventLoop { context.loop }
    var logger: Logger { context.logger }
    var metrics: ServerMetrics { context.metrics }

    // MARK: Connections

    func connectionOpened(_ channel: Channel) -> UInt64 {
        loop.preconditionInEventLoop()
        return context.outbox.opened(channel)
    }

    func connectionClosed(_ id: UInt64) {
        context.outbox.closed(id)
        replica.connectionClosed(id)
    }

    // MARK: Requests

    func request(_ message: Message, ref: ClientRef) {
        loop.preconditionInEventLoop()
        switch message {
        case .get(let key): replica.get(key, ref: ref)
        case .put(let key, let value, let request): replica.write(key, value: value, request: request, ref: ref)
        case .delete(let key, let request): replica.write(key, value: nil, request: request, ref: ref)
        case .ping(let n): reply(.pong(n), to: ref)
        case .startTransfer(let epoch, let leader, let to): sendSnapshot(epoch: epoch, leader: leader, to: to, ref: ref)
        case .dataTransfer(let epoch, let from, let lastSeq, let rows, let done):
            reply(snapshots.rows(epoch: epoch, from: from, lastSeq: lastSeq, rows, done: done, ref: ref), to: ref)
        case .outcomeTransfer(let epoch, let from, let lastSeq, let outcomes):
            reply(snapshots.outcomes(epoch: epoch, from: from, lastSeq: lastSeq, outcomes, ref: ref), to: ref)
        case .getHead: reply(.chain(context.addresses.chainInfo(replica.core.view)), to: ref)
        case .status: reply(.statusReply(status()), to: ref)
        case .die(let clean): die(clean: clean, ref: ref)
        default: reply(.error(.badRequest, "\(message.kind) is not a client request"), to: ref)
        }
        // No flush: the connection flushes once per read batch (`channelReadComplete`), so many
        // pipelined requests cost one write system call, not one each.
    }

    /// A replication message on an inbound peer link (after its `hello`); everything else on
    /// such a link is a request like a client's.
    func peerMessage(from node: NodeID, _ message: Message) {
        loop.preconditionInEventLoop()
        guard case .forward(let epoch, let update) = message else {
            return logger.warning("unexpected peer message", metadata: ["peer": "\(node)", "type": "\(message.kind)"])
        }
        replica.forwarded(from: node, epoch: epoch, update)
    }

    func reply(_ message: Message, to ref: ClientRef) {
        context.outbox.reply(message, to: ref)
    }

    /// Flushes what the current event produced (called once per read batch and per event).
    func flush() {
        replica.flush()
    }

    func status() -> NodeStatus {
        let core = replica.core
        return NodeStatus(id: config.id, epoch: core.view.epoch, role: core.role.rawValue, received: core.received,
                          durable: core.durable, stable: core.stable, uptimeMs: context.nowMs, isLeader: leader.isLeading,
                          inflight: UInt32(core.inflightCount))
    }

    /// Every tick: metrics, the replica's refresh every tenth, the leader's clock.
    func tick() {
        metrics.observe(replica.core, leading: leader.isLeading)
        if context.ticks % 10 == 0 { replica.refresh() }
        leader.tick()
    }

    private func die(clean: Bool, ref: ClientRef) {
        logger.notice("die requested", metadata: ["clean": "\(clean)"])
        guard let channel = context.outbox.channel(ref.connection) else { return }
        channel.writeAndFlush(Frame(requestID: ref.request, .dieAck)).whenComplete { [exitRequested] _ in
            exitRequested?(clean)
        }
    }
}

/// Exits at once, like a crash: no session close, no flush. For a server that must leave the
/// chain now (it cannot store its epoch).
func exitLikeACrash() -> Never {
    _exit(1)
}

import ChainCoordination
import ChainCore
import ChainStorage
import ChainTransport
import ChainWire
import Logging
import NIOCore

/// The shell around `Replica` and `Leader`: it turns sockets, disk completions and ZooKeeper
/// events into core events and carries out the actions the core returns, in order.
///
/// Every mutable field is confined to `loop`, the one event loop that also runs every channel of
/// this server, so handlers call into the node directly and the core sees one event at a time.
final class ChainNode: @unchecked Sendable {
    let loop: EventLoop
    let config: ServerConfig
    /// Shared secret, TLS and ZooKeeper digest from the configuration; `security.outbound` is
    /// what every connection this server dials uses.
    let security: ServerSecurity
    var logger: Logger
    var replica: Replica
    var leader: Leader
    /// Read connection for gets and old values; the committer owns the write connection. Use it
    /// through `readStore()` (ChainNode+Reads), which batches reads into one transaction.
    let reader: Store
    /// True while `reader` has a read transaction open (see ChainNode+Reads).
    var readBatchOpen = false
    /// Updates to persist not yet handed to the committer (see `queuePersist`).
    var persistQueue: [StoredUpdate] = []
    let committer: GroupCommitter
    /// Set once ZooKeeper is connected; leader writes go through it.
    var coordination: CoordinationDriver?

    /// Client connections by id, for replies.
    var clients: [UInt64: Channel] = [:]
    /// Request ids of the writes each connection has in flight (taken, not yet answered).
    var writesInFlight: [UInt64: Set<UInt64>] = [:]
    /// Writes one connection may have in flight. The core bounds writes in flight for the whole
    /// server (`CoreLimits.inflightMax`, 4096); this keeps a single connection from taking them
    /// all, so other clients' writes still get in. Reads are answered at once and hold nothing.
    static let writesInFlightPerConnectionMax = 1024
    private var nextConnectionID: UInt64 = 1
    /// Inbound peer links by the node id their hello named.
    var inbound: [NodeID: Channel] = [:]
    var successorLink: SuccessorLink?
    /// Addresses of nodes, from the chain znode and the member znodes.
    var addresses: [NodeID: NodeAddress] = [:]
    /// Channels written since the last flush: writes are flushed once per event, not per frame.
    private var unflushed: [ObjectIdentifier: Channel] = [:]
    let startedAt = NIODeadline.now()
    var exitRequested: (@Sendable (_ clean: Bool) -> Void)?
    /// This run of the server, as registered in ZooKeeper.
    let member: MemberInfo
    /// The group the node's loop belongs to, for outbound connections of transfers and control.
    let group: EventLoopGroup
    let databasePath: String
    /// A snapshot being received: its sequence number and the connection it comes on.
    var incomingTransfer: (lastSeq: UInt64, connection: UInt64)?
    /// Set when a new successor is connected: when it has caught up with what this node held at
    /// that moment, the time since is the pause writes saw during the splice.
    var splice: (node: NodeID, since: NIODeadline, target: UInt64)?
    /// The leader's heartbeat and control links (only while leading).
    var leaderLinks: LeaderLinks?
    /// The link to the election candidate just below this one (see CandidateWatch).
    var candidateWatch: CandidateWatch?
    /// The candidate this server removed from the election as gone (crashed or silent), reported
    /// unresponsive at once if this server becomes leader next.
    var goneCandidate: NodeID?
    /// The read lease and the fence wait derived from it.
    let leaseTiming: LeaseTiming
    /// Reads refused for a lapsed lease, logged at most once a second.
    let leaseLapses = LogThrottle()
    /// Set once the member znode is created: lease renewals then also check it still exists.
    var registered = false
    let metrics = ServerMetrics()

    init(loop: EventLoop, group: EventLoopGroup, config: ServerConfig, security: ServerSecurity, databasePath: String, reader: Store,
         committer: GroupCommitter, lastSeq: UInt64, requests: [(RequestID, seq: UInt64)], logger: Logger) {
        // Storage must keep outcomes as long as the core remembers requests, or a retry the core
        // would have recognized before a restart is applied again after it.
        precondition(Store.outcomesKeptMax == UInt64(CoreLimits.requestsRememberedMax), "outcome windows differ")
        self.loop = loop
        self.group = group
        self.databasePath = databasePath
        self.member = MemberInfo(id: config.id, host: config.host, port: config.port)
        self.config = config
        self.security = security
        self.logger = logger
        self.reader = reader
        self.committer = committer
        self.replica = Replica(id: config.id, lastSeq: lastSeq, requests: requests)
        let tickMs = UInt64(ChainNode.tickInterval.nanoseconds / 1_000_000)
        let leaseTiming = LeaseTiming(leaseMs: UInt64(config.leaseMs))
        self.leaseTiming = leaseTiming
        self.leader = Leader(config: .init(expectedMembers: config.expectedMembers,
                                           formationTicks: UInt64(config.formationTimeoutMs) / tickMs,
                                           transferTicks: UInt64(ChainNode.transferTimeout.nanoseconds / 1_000_000) / tickMs,
                                           fenceTicks: leaseTiming.fenceTicks(tickMs: tickMs)))
        self.addresses[config.id] = NodeAddress(id: config.id, host: config.host, port: config.port)
    }

    static let tickInterval = TimeAmount.milliseconds(100)
    /// Longest a state transfer may take before the leader starts it over.
    static let transferTimeout = TimeAmount.seconds(120)

    var ticks: UInt64 { UInt64((NIODeadline.now() - startedAt).nanoseconds / ChainNode.tickInterval.nanoseconds) }
    /// Milliseconds since start, on the monotonic clock: the core's time for read leases.
    var nowMs: UInt64 { UInt64((NIODeadline.now() - startedAt).nanoseconds / 1_000_000) }

    // MARK: Connections

    func clientConnected(_ channel: Channel) -> UInt64 {
        loop.preconditionInEventLoop()
        let id = nextConnectionID
        nextConnectionID += 1
        clients[id] = channel
        return id
    }

    func clientDisconnected(_ id: UInt64) {
        clients[id] = nil
        writesInFlight[id] = nil
    }

    /// Counts a write against its connection's limit; false (and an `overloaded` reply naming the
    /// limit) when the connection already has `writesInFlightPerConnectionMax` in flight.
    private func admitWrite(connection: UInt64, requestID: UInt64) -> Bool {
        guard writesInFlight[connection, default: []].count < Self.writesInFlightPerConnectionMax else {
            write(.error(.overloaded, "too many writes in flight on this connection (writesInFlightPerConnectionMax \(Self.writesInFlightPerConnectionMax)); retry"),
                  requestID: requestID, to: clients[connection])
            return false
        }
        writesInFlight[connection, default: []].insert(requestID)
        return true
    }

    func peerHello(from node: NodeID, channel: Channel) {
        loop.preconditionInEventLoop()
        if let old = inbound[node], old !== channel {
            // A reconnect replaces the old link; its unacknowledged updates will be resent.
            old.close(promise: nil)
        }
        inbound[node] = channel
        logger.debug("inbound peer link up", metadata: ["peer": "\(node)"])
        perform(replica.on(.predecessorLink(node, up: true)))
        flush()
    }

    func peerClosed(_ node: NodeID, channel: Channel) {
        guard inbound[node] === channel else { return }
        inbound[node] = nil
        perform(replica.on(.predecessorLink(node, up: false)))
        flush()
    }

    // MARK: Client requests

    func clientRequest(connection: UInt64, requestID: UInt64, _ message: Message) {
        loop.preconditionInEventLoop()
        let ref = ClientRef(connection: connection, request: requestID)
        do {
            switch message {
            case .get(let key):
                let started = NIODeadline.now()
                let stored = try storedValue(key)
                let reply = replica.read(key, stored: stored, now: nowMs)
                if reply == .error(.noLease), let refused = leaseLapses.event() {
                    logger.warning("refusing reads: the lease lapsed (no ZooKeeper confirmation within leaseMs)",
                                   metadata: ["leaseMs": "\(leaseTiming.leaseMs)", "refused": "\(refused)"])
                }
                let message = Self.message(for: reply, addresses: addresses)
                write(message, requestID: requestID, to: clients[connection])
                metrics.request("get", status: ServerMetrics.status(message))
                metrics.latency("get", since: started)
            case .put(let key, let value, let request):
                guard admitWrite(connection: connection, requestID: requestID) else { break }
                metrics.writeStarted(ref, type: "put")
                let stored = try storedValue(key)
                perform(replica.on(.clientWrite(ref, key: key, value: value, stored: stored, request: request)))
            case .delete(let key, let request):
                guard admitWrite(connection: connection, requestID: requestID) else { break }
                metrics.writeStarted(ref, type: "delete")
                let stored = try storedValue(key)
                perform(replica.on(.clientWrite(ref, key: key, value: nil, stored: stored, request: request)))
            case .ping(let n):
                write(.pong(n), requestID: requestID, to: clients[connection])
            case .startTransfer(let epoch, let leader, let to):
                startTransfer(epoch: epoch, leader: leader, to: to, connection: connection, requestID: requestID)
            case .dataTransfer(let epoch, let from, let lastSeq, let rows, let done):
                receiveTransfer(epoch: epoch, from: from, lastSeq: lastSeq, rows: rows, done: done, connection: connection, requestID: requestID)
            case .outcomeTransfer(let epoch, let from, let lastSeq, let outcomes):
                receiveOutcomes(epoch: epoch, from: from, lastSeq: lastSeq, outcomes, connection: connection, requestID: requestID)
            case .getHead:
                write(.chain(chainInfo()), requestID: requestID, to: clients[connection])
            case .status:
                write(.statusReply(status()), requestID: requestID, to: clients[connection])
            case .die(let clean):
                die(clean: clean, connection: connection, requestID: requestID)
            default:
                write(.error(.badRequest, "\(message.kind) is not a client request"), requestID: requestID, to: clients[connection])
            }
        } catch {
            logger.error("storage read failed", metadata: ["error": "\(error)"])
            writesInFlight[connection]?.remove(requestID)
            write(.error(.internalError, "storage read failed: \(error)"), requestID: requestID, to: clients[connection])
        }
        // No flush: the connection flushes once per read batch (`channelReadComplete`), so many
        // pipelined requests cost one write system call, not one each.
    }

    /// The key's value in local storage, read only when the core needs it (no write in flight).
    func storedValue(_ key: String) throws -> [UInt8]? {
        replica.needsStoredValue(for: key) ? try readStore().get(key) : nil
    }

    func status() -> NodeStatus {
        NodeStatus(id: config.id, epoch: replica.view.epoch, role: replica.role.rawValue, received: replica.received,
                   durable: replica.durable, stable: replica.stable, uptimeMs: nowMs, isLeader: leader.isLeading,
                   inflight: UInt32(replica.inflightCount))
    }

    /// The chain as clients see it: members in order with their addresses.
    func chainInfo() -> ChainInfo {
        let view = replica.view
        return ChainInfo(epoch: view.epoch, members: view.members.map {
            addresses[$0] ?? NodeAddress(id: $0, host: "unknown", port: 1)
        })
    }

    private func die(clean: Bool, connection: UInt64, requestID: UInt64) {
        logger.notice("die requested", metadata: ["clean": "\(clean)"])
        guard let channel = clients[connection] else { return }
        let frame = Frame(requestID: requestID, .dieAck)
        channel.writeAndFlush(frame).whenComplete { [exitRequested] _ in
            exitRequested?(clean)
        }
    }

    // MARK: Peer messages

    func peerMessage(from node: NodeID, _ message: Message) {
        loop.preconditionInEventLoop()
        switch message {
        case .forward(let epoch, let update):
            do {
                let stored = try storedValue(update.key)
                perform(replica.on(.forward(from: node, epoch: epoch, update, stored: stored)))
            } catch {
                logger.error("storage read failed; dropping the link to resync", metadata: ["error": "\(error)"])
                inbound[node]?.close(promise: nil)
            }
        case .ping(let n):
            write(.pong(n), requestID: 0, to: inbound[node])
        default:
            logger.warning("unexpected peer message", metadata: ["peer": "\(node)", "type": "\(message.kind)"])
        }
        // Flushed at the end of the read batch, like client requests.
    }

    /// A message from the successor on our outbound link.
    func successorMessage(from node: NodeID, _ message: Message) {
        loop.preconditionInEventLoop()
        switch message {
        case .ack(let epoch, let seq):
            perform(replica.on(.ack(from: node, epoch: epoch, seq: seq)))
            if let s = splice, s.node == node, replica.successorAcked >= s.target {
                metrics.putPause.recordNanoseconds((NIODeadline.now() - s.since).nanoseconds)
                let ms = (NIODeadline.now() - s.since).nanoseconds / 1_000_000
                logger.notice("successor caught up: put pause during splice \(ms) ms", metadata: [
                    "successor": "\(node)", "epoch": "\(replica.view.epoch)", "putPauseMs": "\(ms)", "seq": "\(s.target)",
                ])
                splice = nil
            }
        case .error(let code, let text):
            logger.warning("successor refused", metadata: ["peer": "\(node)", "code": "\(code)", "reason": "\(text)"])
        default:
            break
        }
        // Flushed at the end of the read batch: a burst of acks answers many clients at once.
    }

    func successorLinkUp(_ node: NodeID) {
        loop.preconditionInEventLoop()
        logger.info("link to successor up", metadata: ["successor": "\(node)"])
        perform(replica.on(.successorLinkUp(node)))
        flush()
    }

    // MARK: Storage

    /// Called on the committer thread after each group commit.
    func persisted(through seq: UInt64, batch: Int, duration: Duration) {
        metrics.fsyncBatch.record(batch)
        metrics.fsyncDuration.recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        loop.execute {
            // The core now counts this batch durable, so the next read must see it.
            self.endReadBatch()
            self.perform(self.replica.on(.persisted(through: seq)))
            self.flush()
        }
    }

    // MARK: Writing

    func write(_ message: Message, requestID: UInt64, to channel: Channel?) {
        guard let channel, channel.isActive else { return }
        channel.write(Frame(requestID: requestID, message), promise: nil)
        unflushed[ObjectIdentifier(channel)] = channel
    }

    func flush() {
        submitPersists()
        guard !unflushed.isEmpty else { return }
        for channel in unflushed.values { channel.flush() }
        unflushed.removeAll(keepingCapacity: true)
    }
}

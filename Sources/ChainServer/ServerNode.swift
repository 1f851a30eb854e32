import ChainCoordination
import ChainCore
import ChainStorage
import ChainTransport
import ChainWire
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore

/// One server's shells and the routing between them and the network: requests go to the replica
/// shell of the key's chain (ServerNode+Chains: one per chain this server holds a replica of),
/// peer messages to the chain their link's hello named, snapshot chunks to that chain's snapshot
/// receiver or the transfer source (ServerNode+Transfer); ZooKeeper's events go to the shells
/// (ServerNode+Coordination). It holds no protocol state of its own.
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
    let leader: LeaderShell
    /// The read lease and the fence wait derived from it.
    let leaseTiming: LeaseTiming
    /// The group the loop belongs to, for outbound connections of transfers and control.
    let group: EventLoopGroup
    /// Opens chain `id`'s database (nil: the unsharded cluster's one chain).
    let openDatabase: (_ chain: String?) throws -> ChainDatabase
    /// The chains this server holds a replica of, by id (`ClusterLeader.soleChain` unsharded).
    var chains: [String: HostedChain] = [:] {
        didSet { soleShell = config.sharded ? nil : chains[ClusterLeader.soleChain]?.shell }
    }
    /// Unsharded, the one chain's shell, kept beside `chains` so that a request needs no
    /// dictionary lookup (hashing "c0" and copying its entry, about 1 % of a head's reads).
    private(set) var soleShell: ReplicaShell?
    /// Chains whose files are being deleted (`removeChain`): not opened again until that is done.
    var removingChains: Set<String> = []
    /// Chains whose latest placement excludes this server and whose removal was already seen to
    /// (`removeChain`): their later configurations do not look for files again, which each would
    /// otherwise do for as long as the cluster runs. A placement naming this server clears it.
    var excludedChains: Set<String> = []
    /// Sharded: the slot map as last read from ZooKeeper.
    var slots: SlotMap?
    /// Which member listings to apply (`membersChanged`, `becameLeader`).
    var memberListOrder = MemberListOrder()
    /// Every chain's configuration as last read from ZooKeeper (`ClusterLeader.soleChain` unsharded).
    var configs: [String: ChainConfig] = [:]
    /// The lease the shells were last given (nil: none, or revoked): a chain opened later starts with it.
    var leaseUntil: UInt64?
    /// Set by `leave` (graceful stop): no lease is given to any chain from then on.
    var leaving = false
    /// Set once ZooKeeper is connected.
    var coordination: CoordinationDriver?
    /// Set once the member znode is created: lease renewals then also check it still exists.
    var registered = false
    var exitRequested: (@Sendable (_ clean: Bool) -> Void)?
    /// Set when the disk filled (why): the server left its chains and waits for space (ServerNode+DiskFull).
    var diskFull: String?

    init(loop: EventLoop, group: EventLoopGroup, config: ServerConfig, security: ServerSecurity, logger: Logger,
         diskFaults: DiskFaultHandler? = nil,
         openDatabase: @escaping (_ chain: String?) throws -> ChainDatabase) throws {
        // Storage must keep outcomes as long as the core remembers requests, or a retry the core
        // would have recognized before a restart is applied again after it.
        precondition(Store.outcomesKeptMax == UInt64(CoreLimits.requestsRememberedMax), "outcome windows differ")
        let own = NodeAddress(id: config.id, host: config.advertised, port: config.port)
        let context = ShellContext(loop: loop, outbox: Outbox(), addresses: AddressBook(own: own), metrics: ServerMetrics(), logger: logger,
                                   diskFaults: diskFaults)
        let leaseTiming = LeaseTiming(leaseMs: UInt64(config.leaseMs))
        self.context = context
        self.config = config
        self.security = security
        self.member = MemberInfo(id: config.id, host: config.advertised, port: config.port)
        self.leaseTiming = leaseTiming
        self.group = group
        self.openDatabase = openDatabase
        let outbound = security.outbound
        let interval = TimeAmount.milliseconds(Int64(config.heartbeatIntervalMs))
        let limit = TimeAmount.milliseconds(Int64(config.heartbeatTimeoutMs))
        let sharded = config.sharded
        let dialer = LeaderDialer(
            members: { report in
                LeaderLinks(context: context, group: group, security: outbound, interval: interval, limit: limit, sharded: sharded,
                            report: report)
            },
            candidate: { candidate, address, onGone in
                CandidateWatch(candidate: candidate, address: address, gate: context.gate, group: group, security: outbound,
                               interval: interval, limit: limit, onGone: onGone)
            },
            answering: { peers in QuorumCheck.answering(peers, loop: loop, group: group, security: outbound) })
        let tickMs = ShellContext.tickMs
        let leaderConfig = Leader.Config(expectedMembers: config.expectedMembers,
                                         formationTicks: UInt64(config.formationTimeoutMs) / tickMs,
                                         transferTicks: UInt64(LeaderShell.transferTimeout.nanoseconds / 1_000_000) / tickMs,
                                         fenceTicks: leaseTiming.fenceTicks(tickMs: tickMs),
                                         // Twice the heartbeat limit: a successor's link reconnects
                                         // within it (a dial times out after 2 s, backoff ≤ 1 s).
                                         linkStallTicks: max(UInt64(config.heartbeatTimeoutMs) * 2 / tickMs, 1))
        leader = LeaderShell(id: config.id,
                             config: .init(leader: leaderConfig, chains: config.chains, replicas: config.replicationFactor, sharded: sharded),
                             fenceWait: .milliseconds(Int64(leaseTiming.fenceWaitMs)), context: context, dialer: dialer)
        if !sharded {
            // The one chain's database is open from the start, as it always was.
            chains[ClusterLeader.soleChain] = try host(ClusterLeader.soleChain, database: openDatabase(nil))
            soleShell = chains[ClusterLeader.soleChain]?.shell  // an initializer's assignments call no `didSet`
        }
    }

    var loop: EventLoop { context.loop }
    /// How tasks and other threads hand work to `loop` (closed as the server stops).
    var gate: LoopGate { context.gate }
    var logger: Logger { context.logger }
    var metrics: ServerMetrics { context.metrics }

    // MARK: Connections

    func connectionOpened(_ channel: Channel, encoder: FrameBatchEncoder? = nil) -> UInt64 {
        loop.preconditionInEventLoop()
        return context.outbox.opened(channel, encoder: encoder)
    }

    func connectionClosed(_ id: UInt64) {
        context.outbox.closed(id)
        for hosted in chains.values { hosted.shell.connectionClosed(id) }
    }

    // MARK: Requests

    /// - Parameter chain: for a relayed request (`relayed`, ServerNode+Relay), the chain the client
    ///   routed its key to: a key this server's map places in another chain is answered `moved`.
    func request(_ message: Message, ref: ClientRef, chain: String? = nil) {
        loop.preconditionInEventLoop()
        if let diskFull {
            switch message {
            // The slot map as last known too, so that `chainkv status` finds its servers (this one
            // answers `status` with role "disk full"); a client sent here by it is refused below.
            case .ping, .status, .die, .getSlots: break
            default: return reply(.error(.unavailable, "this server's disk is full; it left its chains: \(diskFull)"), to: ref)
            }
        }
        switch message {
        case .get(let key): route(key, "get", ref, chain)?.get(key, ref: ref)
        case .put(let key, let value, let request): route(key, "put", ref, chain)?.write(key, value: value, request: request, ref: ref)
        case .delete(let key, let request): route(key, "delete", ref, chain)?.write(key, value: nil, request: request, ref: ref)
        case .getVersioned(let key): route(key, "get", ref, chain)?.get(key, ref: ref, versioned: true)
        case .putVersioned(let key, let value, let request, let ifVersion):
            route(key, "put", ref, chain)?.write(key, value: value, request: request, ref: ref, versioned: true, ifVersion: ifVersion)
        case .deleteVersioned(let key, let request, let ifVersion):
            route(key, "delete", ref, chain)?.write(key, value: nil, request: request, ref: ref, versioned: true, ifVersion: ifVersion)
        case .scan(let chain, let mapVersion, let range, let limit):
            scan(chain: chain, mapVersion: mapVersion, range: range, limit: limit, ref: ref)
        case .watch(let chain, let range, let after, let limit, let waitMs):
            watch(chain: chain, range: range, after: after, limit: limit, waitMs: waitMs, ref: ref)
        case .relay(let named, let inner): relay(inner, chain: named, ref: ref)
        case .relayed(let named, let inner): relayed(inner, chain: named, ref: ref)
        case .ping(let n): reply(.pong(n), to: ref)
        case .getSlots: reply(.slots(shardMap()), to: ref)
        case .getHead:
            guard let sole = chains[ClusterLeader.soleChain], !config.sharded else {
                return reply(.error(.badRequest, "the keys are sharded over several chains: ask getSlots"), to: ref)
            }
            reply(.chain(context.addresses.chainInfo(sole.shell.core.view)), to: ref)
        case .status: reply(.statusReply(status()), to: ref)
        case .die(let clean): die(clean: clean, ref: ref)
        case .decommission(let server, let cancel):
            leader.decommission(server, cancel: cancel).whenComplete { result in
                switch result {
                case .success(let servers): self.reply(.ack(epoch: 0, seq: UInt64(servers.count)), to: ref)
                case .failure(let error): self.reply(.error(.refused, "\(error)"), to: ref)
                }
                self.flush()
            }
        case .startTransfer, .dataTransfer, .outcomeTransfer:
            guard !config.sharded else {
                return reply(.error(.badRequest, "the keys are sharded over several chains: name the chain of a transfer"), to: ref)
            }
            transfer(message, chain: ClusterLeader.soleChain, ref: ref)
        case .onChain(let chain, let inner):
            guard config.sharded else { return reply(.error(.badRequest, "this cluster has a single chain"), to: ref) }
            if !moveRequest(chain, inner, ref: ref) { transfer(inner, chain: chain, ref: ref) }
        default: reply(.error(.badRequest, "\(message.kind) is not a client request"), to: ref)
        }
        // No flush: the connection flushes once per read batch (`channelReadComplete`), so many
        // pipelined requests cost one write system call, not one each.
    }

    /// The replica shell of the chain that owns `key`, or nil once the reply that it is not here
    /// (`moved`) or not yet known is sent.
    private func route(_ key: String, _ type: String, _ ref: ClientRef, _ expected: String?) -> ReplicaShell? {
        guard config.sharded else { return soleShell }
        guard let slots else {
            reply(.error(.unavailable, "no slot map yet: the cluster is being formed"), to: ref)
            return nil
        }
        let slot = SlotMap.slot(of: key)
        let id = slots.owners[slot]
        if let move = slots.moving, move.contains(slot) {
            // Served by no chain while it moves (ClusterLeader+Growth); clients retry.
            reply(.error(.overloaded, "slot \(slot) is moving from chain \(move.from) to chain \(move.to); retry"), to: ref)
            metrics.request(type, status: "moving", chain: id)
            return nil
        }
        if let expected, expected != id {
            // A request for the chain the client's map names (`relayed`): a retry must not be
            // taken by another chain, which does not remember the first attempt's outcome.
            reply(.moved(slot: UInt16(slot), mapVersion: slots.version), to: ref)
            metrics.request(type, status: "moved", chain: id)
            return nil
        }
        // A member of the key's chain answers itself, also while its view lags the configuration
        // (its shell says "not the head", or "unavailable" before its first view): "moved" would
        // send the client round to the same server with the same map.
        if let hosted = chains[id], hosted.shell.core.view.members.contains(config.id) || named(in: id) { return hosted.shell }
        reply(.moved(slot: UInt16(SlotMap.slot(of: key)), mapVersion: slots.version), to: ref)
        metrics.request(type, status: "moved", chain: id)
        return nil
    }

    /// A replication message on an inbound peer link of chain `chain` (after its `hello`).
    func peerMessage(from node: NodeID, chain: String, _ message: Message) {
        loop.preconditionInEventLoop()
        guard diskFull == nil else { return }  // it acknowledges nothing more (ServerNode+DiskFull)
        guard case .forward(let epoch, let update) = message, let hosted = chains[chain] else {
            return logger.warning("unexpected peer message", metadata: ["peer": "\(node)", "chain": "\(chain)", "type": "\(message.kind)"])
        }
        hosted.shell.forwarded(from: node, epoch: epoch, update)
    }

    func reply(_ message: Message, to ref: ClientRef) {
        context.outbox.reply(message, to: ref)
    }

    /// Passes `relay` requests on to their chains' heads (ServerNode+Relay).
    lazy var headRelay = HeadRelay(gate: context.gate, security: security.outbound, logger: logger) { [unowned self] reply, ref in
        self.reply(reply, to: ref)
        self.context.outbox.flush()
    }

    /// Flushes what the read batches of this loop turn left (forwards, updates to commit), at its end.
    lazy var turnFlush = TurnFlush(loop: context.loop) { [weak self] in self?.flush() }

    /// Flushes what the current event produced (called once per event, and per loop turn with reads).
    func flush() {
        for hosted in chains.values { hosted.shell.storage.submitQueued() }
        context.outbox.flush()
    }

    /// Every tick: metrics (files, lags and the process every tenth), the replicas' refresh every tenth, the leader's clock.
    func tick() {
        metrics.isLeader.record(leader.isLeading ? 1 : 0)
        metrics.diskFull.record(diskFull != nil ? 1 : 0)
        for (id, hosted) in chains { metrics.observe(hosted.shell.core, chain: id, watchesWaiting: hosted.shell.watches.waiting.count) }
        if context.ticks % 10 == 0 {
            for hosted in chains.values { hosted.shell.refresh() }
            for (id, hosted) in chains { metrics.observeFiles(databasePath: hosted.database.path, chain: id) }
            metrics.memberLag(leader.isLeading ? leader.core.chains.mapValues(\.memberLag) : [:])
            metrics.operations.sampleProcess()
        }
        leader.tick()
        checkDiskSpace()
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

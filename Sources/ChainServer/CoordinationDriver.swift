import ChainCoordination
import ChainCore
import ChainTransport
import FoundationEssentials
import Logging
import NIOCore

/// Connects a node to ZooKeeper: registers it, stands it for election, and feeds what ZooKeeper
/// reports (chain, members, leadership, session) to the node's loop in order.
final class CoordinationDriver: LeaderCoordination, Sendable {
    let coordinator: Coordinator
    private let logger: Logger
    /// The event and lease-renewal tasks, cancelled by `close` so that neither touches the
    /// node's loop once the server shuts it down.
    private let tasks = Locked<[Task<Void, Never>]>([])

    /// Sharded: chains live in `chains/<id>` with a slot map; otherwise the one chain in `chain`.
    private let sharded: Bool

    private init(coordinator: Coordinator, sharded: Bool, logger: Logger) {
        self.coordinator = coordinator
        self.sharded = sharded
        self.logger = logger
    }

    static func start(config: ServerConfig, node: ServerNode, logger: Logger) async throws -> CoordinationDriver {
        let coordinator = try await Coordinator.connect(
            to: config.zookeeper, cluster: config.cluster, nodeID: config.id,
            sessionTimeout: .milliseconds(config.sessionTimeoutMs), digest: node.security.zookeeperDigest, logger: logger)
        // Connected now; changes arrive as events, consumed below in order.
        node.metrics.operations.zookeeperConnected.record(1)
        // The cluster's znodes must be of this server's mode: joining a single-chain cluster as a
        // sharded server (or the reverse) would watch other znodes than its peers.
        let other = config.sharded ? try await coordinator.readChain().map { _ in "a single chain (its chain znode exists); set \"chains\": 1" }
            : try await coordinator.readSlots().map { _ in "sharded chains (its slots znode exists); set the cluster's \"chains\" (0: one per server)" }
        if let other {
            await coordinator.close()
            throw ConfigError(field: "chains", reason: "cluster \(config.cluster) in ZooKeeper runs \(other)")
        }
        let driver = CoordinationDriver(coordinator: coordinator, sharded: config.sharded, logger: logger)
        // The node must be able to write the chain before it can win the election.
        try await node.loop.submit {
            node.coordination = driver
            node.leader.coordination = driver
        }.get()
        // Consume events before any watch is armed, so none is missed. One task keeps their order.
        driver.track(Task {
            for await event in coordinator.events where !Task.isCancelled { await driver.handle(event, node: node) }
        })
        // Leases first: a server can be named head as soon as it registers, and a head without
        // a confirmed lease refuses reads.
        driver.renewLeases(node: node, every: .milliseconds(Int64(node.leaseTiming.renewIntervalMs)))
        try await coordinator.register(member: node.member)
        try await node.loop.submit { node.registered = true }.get()
        if config.sharded {
            try await coordinator.watchShards()
        } else {
            try await coordinator.watchChain()
        }
        try await coordinator.watchMembers()
        if try await coordinator.joinElection() {
            await driver.becomeLeader(node: node)
        }
        return driver
    }

    /// Confirms the session with a ZooKeeper round trip every `interval` and renews the node's
    /// read lease from the time each confirmed round trip was sent.
    private func renewLeases(node: ServerNode, every interval: Duration) {
        let coordinator = self.coordinator
        let renewalFailures = LogThrottle(interval: .seconds(10))
        track(Task { [weak self] in
            while self != nil, !Task.isCancelled {
                let sentAtMs = node.context.nowMs  // the loop's clock is the monotonic clock: readable from here
                do {
                    // Any answer proves the session alive when it was given. Once registered, the
                    // answer must also show our member znode: the leader deletes it to fence a
                    // head it can no longer reach, and waits out the lease before naming another.
                    if try await node.loop.submit({ node.registered }).get() {
                        guard try await coordinator.holdsMemberZnode() else {
                            // Our own shutdown removes the znode too (after `leave()`, which sets
                            // `leaving` first): that is no fence, and the shutdown goes on to close
                            // the databases cleanly. Ending here like a crash left the WAL in place
                            // (CI: DamagedDatabaseTests' clean stop did not checkpoint its file).
                            if try await node.loop.submit({ node.leaving }).get() { return }
                            self?.logger.critical("member znode deleted: the leader fenced this server; exiting")
                            node.gate.execute { node.exitRequested?(false) }
                            return
                        }
                    } else {
                        _ = try await coordinator.client.exists(coordinator.paths.root)
                    }
                    node.gate.execute { node.renewLease(sentAtMs: sentAtMs) }
                } catch ZooKeeperError.closed {
                    return
                } catch {
                    // No answer, no renewal: the lease runs out on its own. Said at most every
                    // 10 s, with the count: a head that misses renewals refuses reads meanwhile.
                    if let failures = renewalFailures.event() {
                        self?.logger.warning("lease renewal failed; a head answers no reads once its lease has run out",
                                             metadata: ["error": "\(error)", "failures": "\(failures)"])
                    }
                }
                try? await Task.sleep(for: interval)
            }
        })
    }

    private func handle(_ event: CoordinatorEvent, node: ServerNode) async {
        switch event {
        case .chainChanged(let config, let version):
            node.gate.execute { node.chainChanged(ClusterLeader.soleChain, config, version: version) }
        case .shardChanged(let id, let config, let version):
            node.gate.execute { node.chainChanged(id, config, version: version) }
        case .slotsChanged(let map, _):
            node.gate.execute { node.slotsChanged(map) }
        case .membersChanged(let members, let version):
            node.gate.execute { node.membersChanged(members, version: version) }
        case .becameLeader:
            await becomeLeader(node: node)
        case .deposed:
            node.gate.execute { node.leader.deposed() }
        case .electionPredecessor(let candidate):
            node.gate.execute { node.leader.watchCandidate(candidate) }
        case .sessionLost:
            // Our ephemeral znodes are gone and the leader has already dropped us from the chain.
            // Serving on would risk stale reads; exiting lets a supervisor restart us to rejoin.
            logger.critical("ZooKeeper session expired; exiting")
            node.metrics.operations.zookeeperConnected.record(0)
            node.gate.execute { node.exitRequested?(false) }
        case .connectionStateChanged(let connected):
            logger.info("ZooKeeper connection \(connected ? "restored" : "lost")")
            node.metrics.operations.zookeeperConnected.record(connected ? 1 : 0)
        }
    }

    private func becomeLeader(node: ServerNode) async {
        do {
            var chains: [String: (ChainConfig, version: Int32)] = [:]
            var slots: (SlotMap, version: Int32)?
            var decommissioned: Set<String> = []
            if sharded {
                chains = try await coordinator.readShards()
                slots = try await coordinator.readSlots()
                decommissioned = try await coordinator.readDecommissioned()
            } else if let chain = try await coordinator.readChain() {
                chains[ClusterLeader.soleChain] = chain
            }
            let (live, liveVersion) = try await coordinator.liveMembersAndVersion()
            node.gate.execute { [chains, slots, decommissioned] in
                node.becameLeader(chains: chains, slots: slots, live: live, liveVersion: liveVersion, decommissioned: decommissioned)
            }
        } catch {
            logger.error("cannot read the cluster state after winning the election", metadata: ["error": "\(error)"])
        }
    }

    private func track(_ task: Task<Void, Never>) {
        tasks.withLock { $0.append(task) }
    }

    // MARK: LeaderCoordination

    /// Chain `chain` of a sharded cluster goes to `chains/<chain>`; the one chain to `chain`.
    func writeChain(_ chain: String, _ config: ChainConfig, expectedVersion: Int32?, on loop: EventLoop) -> EventLoopFuture<ChainWriteResult> {
        let (coordinator, logger, sharded) = (self.coordinator, self.logger, self.sharded)
        let promise = loop.makePromise(of: ChainWriteResult.self)
        promise.completeWithTask {
            do {
                if sharded {
                    return .written(version: try await coordinator.writeChain(id: chain, config, expectedVersion: expectedVersion))
                }
                return .written(version: try await coordinator.writeChain(config, expectedVersion: expectedVersion))
            } catch {
                logger.warning("chain write failed", metadata: ["error": "\(error)", "chain": "\(chain)", "epoch": "\(config.epoch)"])
                return .conflict(current: await Self.afterFailedWrite {
                    try await sharded ? coordinator.readChain(id: chain) : coordinator.readChain()
                })
            }
        }
        return promise.futureResult
    }

    func writeSlots(_ map: SlotMap, expectedVersion: Int32?, on loop: EventLoop) -> EventLoopFuture<SlotsWriteResult> {
        let (coordinator, logger) = (self.coordinator, self.logger)
        let promise = loop.makePromise(of: SlotsWriteResult.self)
        promise.completeWithTask {
            do {
                return .written(version: try await coordinator.writeSlots(map, expectedVersion: expectedVersion))
            } catch {
                logger.warning("slot map write failed", metadata: ["error": "\(error)", "mapVersion": "\(map.version)"])
                return .conflict(current: await Self.afterFailedWrite { try await coordinator.readSlots() })
            }
        }
        return promise.futureResult
    }

    /// After a failed versioned write (`writeChain`, `writeSlots`): what the znode holds now, for
    /// the core to decide again from. When it reads as nothing (ZooKeeper unreachable, or the
    /// client closed at shutdown), the core decides again from "no znode" and tries to create it
    /// at once, which fails again (ZooKeeper refuses, or is still unusable). Pausing before the
    /// second read makes each round of that loop cost a tenth of a second, not a spin.
    private static func afterFailedWrite<Znode>(_ read: () async throws -> Znode?) async -> Znode? {
        if let current = try? await read() { return current }
        try? await Task.sleep(nanoseconds: 100_000_000)
        return try? await read()
    }

    /// Retried for up to about 15 s: ZooKeeper may be between leaders.
    func fence(member: NodeID, incarnation: String?, on loop: EventLoop) -> EventLoopFuture<Bool> {
        let (coordinator, logger) = (self.coordinator, self.logger)
        let promise = loop.makePromise(of: Bool.self)
        promise.completeWithTask {
            for attempt in 1... {
                do {
                    return try await coordinator.fence(member: member, incarnation: incarnation)
                } catch where attempt < Self.fenceAttemptsMax {
                    logger.warning("cannot delete the member znode to fence it; retrying", metadata: [
                        "member": "\(member)", "attempt": "\(attempt)", "error": "\(error)"])
                    try? await Task.sleep(for: .milliseconds(500))
                }
            }
            preconditionFailure("unreachable: the last attempt returns or throws")
        }
        return promise.futureResult
    }

    static let fenceAttemptsMax = 30

    func evict(_ candidate: ElectionPeer, onlyIfLeading: Bool, on loop: EventLoop) -> EventLoopFuture<Bool> {
        let coordinator = self.coordinator
        let promise = loop.makePromise(of: Bool.self)
        promise.completeWithTask { try await coordinator.evictCandidate(candidate, onlyIfLeading: onlyIfLeading) }
        return promise.futureResult
    }

    func close() async {
        for task in tasks.withLock({ $0 }) { task.cancel() }
        await coordinator.close()
    }
}


extension CoordinationDriver {
    func decommission(_ server: NodeID, cancel: Bool, on loop: EventLoop) -> EventLoopFuture<Set<NodeID>> {
        let coordinator = self.coordinator
        let promise = loop.makePromise(of: Set<NodeID>.self)
        promise.completeWithTask {
            try await coordinator.updateDecommissioned { servers in
                if cancel { servers.remove(server) } else { servers.insert(server) }
            }
        }
        return promise.futureResult
    }

    /// Whether ZooKeeper, synced, names `node` head of chain `chain` in `epoch` (a slot copy's
    /// last check, `SlotCopier`); false when it cannot tell.
    func confirmsHead(of chain: String, node: String, epoch: UInt64) async -> Bool {
        guard let config = try? await coordinator.readChainSynced(id: chain) else { return false }
        return config.members.first == node && config.epoch == epoch
    }
}

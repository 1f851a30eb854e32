import Logging

/// One server's view of the cluster's coordination state in ZooKeeper: its member znode, the leader election,
/// the member list and the chain configuration, with the changes turned into `events`.
///
/// The coordinator owns its `ZooKeeperClient` and consumes the client's `events`. It does not outlive its
/// session: after `.sessionLost` every call fails with `ZooKeeperError.sessionExpired`, and the server makes a
/// new coordinator. Short connection losses are handled here: calls wait for the reconnection (bounded by the
/// session timeout) and retry, and every watch is re-armed when the connection comes back.
///
/// For decisions that must stop as soon as the connection is in doubt (a head serving reads), use `isConnected`,
/// which reads the client's state directly, rather than waiting for `.connectionStateChanged` in `events`.
public actor Coordinator {
    public nonisolated let nodeID: String
    public nonisolated let paths: ZnodePaths
    /// The underlying session, for operations the coordinator does not wrap. Do not consume its `events`.
    public nonisolated let client: ZooKeeperClient
    /// Leadership, membership, chain and connection changes, in order. One consumer.
    public nonisolated let events: AsyncStream<CoordinatorEvent>

    nonisolated let eventContinuation: AsyncStream<CoordinatorEvent>.Continuation
    let logger: Logger

    /// Attempts of an operation that fails because the connection dropped under it.
    static let maxAttempts = 5

    // Election state (Coordinator+Election.swift).
    /// True from `.becameLeader` until the session ends, the election znode disappears, or `close()`. It stays
    /// true while disconnected (the session, and so the candidacy, may still live): combine with `isConnected`.
    public internal(set) var isLeader = false
    /// Full path of this node's candidate znode, once it joined the election.
    var electionNode: String?
    /// The only other candidate this node watches: the one just below it.
    var watchedPredecessor: String?
    /// The predecessor last reported in `.electionPredecessor`.
    var reportedPredecessor: ElectionPeer?

    // Watch state (Coordinator+Members.swift, Coordinator+Chain.swift).
    var watchingMembers = false
    var watchingChain = false
    var lastMembersEmitted: [MemberInfo]?
    var lastChainEmitted: ZnodeVersion?
    // Shard watches (Coordinator+ShardWatch.swift).
    var watchingSlots = false
    var lastSlotsEmitted: ZnodeVersion?
    var watchedShards: Set<String> = []
    var lastShardEmitted: [String: ZnodeVersion] = [:]

    /// Members a fence sent a delete for, until a fence of the member returns
    /// (Coordinator+Fence.swift): a znode found missing after that may be gone by our own delete,
    /// whose run may still hold a lease. At most one entry per server of the cluster.
    var fenceDeletesInDoubt: Set<String> = []

    var sessionLost = false
    var closed = false
    var refreshes: [Refresh: RefreshState] = [:]

    /// Takes over `client` (and its `events` stream). `nodeID` and `cluster` must be valid names
    /// (`ZnodePaths.validateName`).
    public init(
        client: ZooKeeperClient, cluster: String, nodeID: String,
        logger: Logger = Logger(label: "chainkv.coordinator")
    ) throws {
        try ZnodePaths.validateName(nodeID)
        self.paths = try ZnodePaths(cluster: cluster)
        self.nodeID = nodeID
        self.client = client
        var logger = logger
        logger[metadataKey: "node"] = "\(nodeID)"
        logger[metadataKey: "cluster"] = "\(cluster)"
        self.logger = logger
        (events, eventContinuation) = AsyncStream.makeStream(of: CoordinatorEvent.self, bufferingPolicy: .unbounded)

        // One task handles the client's events one after the other, which keeps their order. It holds the
        // coordinator weakly: a coordinator dropped without close() still gets its session closed (by the
        // client's deinit), which finishes the stream and this task.
        let clientEvents = client.events
        Task { [weak self] in
            for await event in clientEvents {
                guard let self else { return }
                await self.handle(event)
            }
            await self?.clientEventsEnded()
        }
    }

    /// Connects a new session and makes a coordinator on it.
    public static func connect(
        to connectString: String, cluster: String, nodeID: String,
        sessionTimeout: Duration = .seconds(10), connectTimeout: Duration = .seconds(30),
        digest: ZooKeeperDigest? = nil,
        logger: Logger = Logger(label: "chainkv.coordinator")
    ) async throws -> Coordinator {
        try ZnodePaths.validateName(nodeID)
        _ = try ZnodePaths(cluster: cluster)
        var clientLogger = logger
        clientLogger[metadataKey: "node"] = "\(nodeID)"
        clientLogger[metadataKey: "cluster"] = "\(cluster)"
        let client = try ZooKeeperClient(
            connectString: connectString, sessionTimeout: sessionTimeout, digest: digest, logger: clientLogger)
        do {
            try await client.waitConnected(timeout: connectTimeout)
        } catch {
            await client.close()
            throw error
        }
        return try Coordinator(client: client, cluster: cluster, nodeID: nodeID, logger: logger)
    }

    /// True while the session is connected (no I/O, callable from anywhere).
    public nonisolated var isConnected: Bool { client.isConnected }

    public nonisolated var sessionID: Int64 { client.sessionID }

    // MARK: - Lifecycle

    /// Closes the session: the server deletes this node's member and election znodes at once, so the others
    /// react without waiting for a timeout. Finishes `events`. Idempotent.
    public func close() async {
        guard !closed else { return }
        closed = true
        isLeader = false
        await client.close()
        eventContinuation.finish()
    }

    // MARK: - Client events

    func handle(_ event: ZooKeeperEvent) async {
        guard !closed, !sessionLost else { return }
        switch event {
        case .connected:
            emit(.connectionStateChanged(connected: true))
            // Watches armed before the disconnect survive it, but a re-check that failed with connectionLoss
            // while disconnected left nothing armed: look at everything again.
            await rearm()
        case .connecting:
            emit(.connectionStateChanged(connected: false))
        case .expired, .authFailed:
            loseSession()
        case .deleted(let path):
            if path == watchedPredecessor || path == electionNode {
                await recheck(.election)
            } else {
                await refreshWatches(path)
            }
        case .created(let path), .changed(let path), .childrenChanged(let path):
            await refreshWatches(path)
        }
    }

    private func refreshWatches(_ path: String) async {
        if path == paths.members, watchingMembers {
            await recheck(.members)
        } else if path == paths.chain, watchingChain {
            await recheck(.chain)
        } else if path == paths.slots, watchingSlots {
            await recheck(.slots)
        } else if path == paths.chains, watchingSlots {
            await recheck(.chainList)
        } else if path.hasPrefix(paths.chains + "/"), case let id = String(path.dropFirst(paths.chains.count + 1)), watchedShards.contains(id) {
            await recheck(.shard(id))
        }
    }

    private func rearm() async {
        if electionNode != nil { await recheck(.election) }
        if watchingMembers { await recheck(.members) }
        if watchingChain { await recheck(.chain) }
        if watchingSlots {
            await recheck(.slots)
            await recheck(.chainList)
        }
        for id in watchedShards.sorted() { await recheck(.shard(id)) }
    }

    private func loseSession() {
        guard !sessionLost else { return }
        sessionLost = true
        isLeader = false
        electionNode = nil
        watchedPredecessor = nil
        logger.error("ZooKeeper session lost; this node's member and election znodes are gone")
        emit(.sessionLost)
    }

    private func clientEventsEnded() {
        eventContinuation.finish()
    }

    func emit(_ event: CoordinatorEvent) {
        eventContinuation.yield(event)
    }

    // MARK: - Helpers

    /// Runs `body`, and if the connection drops under it, waits for the reconnection and runs it again.
    /// Only for operations that are safe to repeat (reads, and writes whose callers handle `nodeExists` etc.).
    @discardableResult
    func withReconnect<Value: Sendable>(_ body: () async throws -> Value) async throws -> Value {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as ZooKeeperError where error.isConnectionProblem && attempt < Self.maxAttempts {
                logger.debug("ZooKeeper connection problem; retrying once connected", metadata: [
                    "error": "\(error)", "attempt": "\(attempt)",
                ])
                try await waitForReconnect(attempt: attempt)
                attempt += 1
            }
        }
    }

    func waitForReconnect(attempt: Int) async throws {
        // The failed completion can arrive before the disconnect is reported, so "connected" may still be the
        // stale state: pause a little before trusting it.
        try await Task.sleep(for: .milliseconds(50 * attempt))
        try await client.waitConnected(timeout: client.sessionTimeout)
    }

    /// Which re-check a `serialized` call belongs to.
    enum Refresh: Hashable { case election, members, chain, slots, chainList, shard(String) }

    struct RefreshState {
        var running = false
        var again = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Runs re-checks of one kind one at a time. A request that arrives while one runs (the actor is reentrant
    /// at every `await`) makes the running one go again, and waits for it, instead of overlapping it: reads and
    /// the events they emit stay in order, and a caller such as `joinElection()` returns only after a check that
    /// started after its request.
    func serialized(_ kind: Refresh, _ body: () async throws -> Void) async throws {
        if refreshes[kind, default: RefreshState()].running {
            refreshes[kind, default: RefreshState()].again = true
            await withCheckedContinuation { refreshes[kind, default: RefreshState()].waiters.append($0) }
            return
        }
        refreshes[kind] = RefreshState(running: true)
        defer {
            let waiters = refreshes[kind]?.waiters ?? []
            refreshes[kind] = RefreshState()
            for waiter in waiters { waiter.resume() }
        }
        repeat {
            refreshes[kind, default: RefreshState()].again = false
            try await body()
        } while refreshes[kind, default: RefreshState()].again
    }

    /// Re-checks one kind from the event task (one at a time per kind, see `serialized`); a
    /// failure is only logged (see `logged`).
    func recheck(_ kind: Refresh) async {
        do {
            try await serialized(kind) {
                switch kind {
                case .election: try await self.checkElection()
                case .members: try await self.refreshMembers()
                case .chain: try await self.refreshChain()
                case .slots: try await self.refreshSlots()
                case .chainList: try await self.refreshChainList()
                case .shard(let id): try await self.refreshShard(id)
                }
            }
        } catch {
            logged("\(kind) re-check", error)
        }
    }

    /// Re-check failures inside the event task are only logged: a connection loss is followed by
    /// `.connected`, which re-arms everything, and an expired session is reported as `.sessionLost`.
    func logged(_ what: String, _ error: any Error) {
        if let error = error as? ZooKeeperError, error.isConnectionProblem || error == .sessionExpired || error == .closed {
            logger.debug("\(what) failed; waiting for the connection", metadata: ["error": "\(error)"])
        } else {
            logger.error("\(what) failed", metadata: ["error": "\(error)"])
        }
    }
}

/// A znode version that also tells a re-created znode from the old one.
struct ZnodeVersion: Hashable, Sendable {
    let createdZxid: Int64
    let version: Int32
}

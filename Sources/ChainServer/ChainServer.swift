import ChainCore
import ChainStorage
import ChainTransport
import ChainWire
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Prometheus
import ServiceLifecycle

/// One chainkv storage server: storage, the replication and client listener, and ZooKeeper
/// coordination, run as a swift-service-lifecycle `Service` (graceful shutdown on SIGTERM/SIGINT).
public final class ChainServer: Service, @unchecked Sendable {
    public let config: ServerConfig
    private let logger: Logger
    private var group: MultiThreadedEventLoopGroup?
    private var node: ChainNode?
    private var listener: Channel?
    private var metricsListener: Channel?
    private let registry: PrometheusCollectorRegistry?
    private var committer: GroupCommitter?
    private var checkpointer: Checkpointer?
    private var coordination: CoordinationDriver?
    private var ticker: RepeatedTask?
    private let stopOnce = NSLock()
    private var stopped = false

    /// - Parameter registry: where the process's swift-metrics go (the executable bootstraps
    ///   MetricsSystem with it); served on `config.metricsPort` when that is set.
    public init(config: ServerConfig, logger: Logger, registry: PrometheusCollectorRegistry? = nil) {
        self.config = config
        self.logger = logger
        self.registry = registry
    }

    public func run() async throws {
        try await start()
        // Returns when the service group is told to stop (SIGTERM/SIGINT or a clean `die`).
        try? await gracefulShutdown()
        await stop()
    }

    /// Opens storage, starts listening, and joins the cluster through ZooKeeper.
    public func start() async throws {
        try FileManager.default.createDirectory(atPath: config.dataDir, withIntermediateDirectories: true)
        let path = config.dataDir + "/chainkv.sqlite"
        // The reader keeps the default cache (gets at the head hit it); the writer's pages are
        // read back from the OS cache when missing, off the event loop.
        let writer = try Store(path: path, cacheKiB: 8 * 1024)
        let reader = try Store(path: path)
        let lastSeq = try writer.lastSeq()
        let rows = try writer.count()
        let requests = try writer.requests()
        logger.info("storage opened", metadata: ["path": "\(path)", "lastSeq": "\(lastSeq)", "rows": "\(rows)",
                                                 "outcomes": "\(requests.count)"])

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let loop = group.next()
        let box = NodeBox()
        let logger = self.logger
        let security = try ServerSecurity.load(config)
        for warning in security.warnings { logger.warning("\(warning)") }
        logger.notice("security", metadata: [
            "sharedSecret": "\(security.secret != nil ? "required" : "off")",
            "tls": "\(security.serverTLS != nil ? "on" : "off")",
            "zookeeperDigest": "\(security.zookeeperDigest.map { "user \($0.user)" } ?? "off")",
        ])
        let committer = GroupCommitter(store: writer, onDurable: { seq, batch, duration in
            box.node?.persisted(through: seq, batch: batch, duration: duration)
        }, onError: { error in
            // A node that cannot write must not stay in the chain: exit like a crash, so the
            // leader repairs the chain and nothing is acknowledged that is not on disk.
            logger.critical("storage commit failed; exiting", metadata: ["error": "\(error)"])
            _exit(70)
        })
        self.committer = committer
        // WAL checkpoints on their own thread, not inline in a group commit (see Checkpointer).
        // Every 30 s it also hands the heap's free pages back to the system: glibc keeps them
        // otherwise, and the resident size then shows the peak of a burst (a preload with
        // thousands of writes in flight) long after it ended (152 against 138 MiB after a
        // 200,000-entry preload). Not more often: a trim holds the arenas' locks while it walks
        // them, and the pages it returns are faulted back in; every 5 s that showed in the
        // write p99.9 (38 and 67 ms against 24 and 21 ms without, back to back).
        checkpointer = try Checkpointer(path: path, housekeeping: HeapControl.trim)
        let node = ChainNode(loop: loop, group: group, config: config, security: security, databasePath: path, reader: reader,
                             committer: committer, lastSeq: lastSeq, requests: requests, logger: logger)
        box.node = node
        self.node = node
        node.exitRequested = { [weak self] clean in
            if clean {
                Task { await self?.stop(); exit(0) }
            } else {
                _exit(1)  // like a crash: no session close, no flush
            }
        }

        let limiter = ConnectionLimiter(max: config.maxConnections)
        let idleTimeout = TimeAmount.milliseconds(Int64(config.idleTimeoutMs))
        let frameReadTimeout = TimeAmount.milliseconds(Int64(config.frameReadTimeoutMs))
        listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteCounter(metrics: node.metrics))
                    if let tls = security.serverTLS { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try sync.addHandlers([
                        IdleStateHandler(allTimeout: idleTimeout),
                        ConnectionGuard(limiter: limiter, frameReadTimeout: frameReadTimeout, idleTimeout: idleTimeout, logger: logger),
                        ByteToMessageHandler(FrameDecoder()),
                        MessageToByteHandler(FrameEncoder()),
                    ])
                    if let secret = security.secret { try sync.addHandler(ServerAuthHandler(secret: secret, logger: logger)) }
                    try sync.addHandler(ConnectionHandler(node: node))
                }
            }
            .bind(host: config.host, port: config.port).get()
        logger.notice("listening", metadata: ["address": "\(config.address)", "id": "\(config.id)"])
        if config.metricsPort > 0, let registry {
            metricsListener = try await MetricsServer.start(host: config.host, port: config.metricsPort, registry: registry, group: group)
            logger.notice("metrics at http://\(config.host):\(config.metricsPort)/metrics")
        }

        let coordination = try await CoordinationDriver.start(config: config, node: node, logger: logger)
        self.coordination = coordination
        ticker = loop.scheduleRepeatedTask(initialDelay: ChainNode.tickInterval, delay: ChainNode.tickInterval) { _ in
            node.tick()
        }
        // Start-up is over: registered, watching, a candidate. Until here a lost ZooKeeper
        // connection ends the process (scripts and the test fixture wait for this line).
        logger.notice("server ready", metadata: ["id": "\(config.id)"])
    }

    /// Leaves the cluster (closing the ZooKeeper session removes our member znode at once, so the
    /// leader repairs the chain without waiting for a session timeout), then closes everything.
    public func stop() async {
        let first = stopOnce.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        logger.notice("shutting down")
        ticker?.cancel()
        if let node {
            // Reads end before the session closes: the leader drops a member whose znode went
            // with its session without waiting out a lease (README, "No stale reads").
            try? await node.loop.submit {
                node.perform(node.replica.on(.leaseRevoked))
                node.leaderLinks?.close()
                node.candidateWatch?.close()
            }.get()
        }
        await coordination?.close()
        try? await listener?.close().get()
        try? await metricsListener?.close().get()
        if let node {
            try? await node.loop.submit {
                for channel in node.clients.values { channel.close(promise: nil) }
                node.successorLink?.close()
                // Updates queued this turn reach the committer, which commits them before it stops.
                node.submitPersists()
            }.get()
        }
        try? await group?.shutdownGracefully()
        committer?.stop()
        checkpointer?.stop()
        node?.reader.close()
        logger.notice("stopped")
    }
}

/// glibc's heap controls. Swift's Glibc module does not import <malloc.h>, so they are looked
/// up at run time; elsewhere (or if absent) they do nothing.
public enum HeapControl {
    private typealias TrimFunction = @convention(c) (Int) -> Int32
    private typealias OptFunction = @convention(c) (Int32, Int32) -> Int32

    /// Returns free heap pages of every arena to the system (`malloc_trim(0)`).
    @Sendable public static func trim() {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: TrimFunction.self)(0)
        #endif
    }

    /// Caps the number of malloc arenas (`mallopt(M_ARENA_MAX, n)`); true if it was set.
    @discardableResult
    public static func limitArenas(_ n: Int32) -> Bool {
        #if canImport(Glibc)
        let arenaMax: Int32 = -8  // M_ARENA_MAX in <malloc.h>
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        return unsafeBitCast(symbol, to: OptFunction.self)(arenaMax, n) == 1
        #else
        return false
        #endif
    }
}

/// Lets the committer's callback reach the node created after it.
private final class NodeBox: @unchecked Sendable {
    var node: ChainNode?
}

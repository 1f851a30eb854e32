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
    private var node: ServerNode?
    private var listener: Channel?
    private var metricsListener: Channel?
    private let registry: PrometheusCollectorRegistry?
    private var checkpointer: Checkpointer?
    private var storage: NodeStorage?
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
        let epoch = try writer.epoch()
        let rows = try writer.count()
        let requests = try writer.requests()
        logger.info("storage opened", metadata: ["path": "\(path)", "lastSeq": "\(lastSeq)", "epoch": "\(epoch)", "rows": "\(rows)",
                                                 "outcomes": "\(requests.count)"])

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let loop = group.next()
        let logger = self.logger
        let security = try ServerSecurity.load(config)
        for warning in security.warnings { logger.warning("\(warning)") }
        logger.notice("security", metadata: [
            "sharedSecret": "\(security.secret != nil ? "required" : "off")",
            "tls": "\(security.serverTLS != nil ? "on" : "off")",
            "zookeeperDigest": "\(security.zookeeperDigest.map { "user \($0.user)" } ?? "off")",
        ])
        // WAL checkpoints on their own thread, not inline in a group commit (see Checkpointer).
        // Every 30 s it also hands the heap's free pages back to the system: glibc keeps them
        // otherwise, and the resident size then shows the peak of a burst (a preload with
        // thousands of writes in flight) long after it ended (152 against 138 MiB after a
        // 200,000-entry preload). Not more often: a trim holds the arenas' locks while it walks
        // them, and the pages it returns are faulted back in; every 5 s that showed in the
        // write p99.9 (38 and 67 ms against 24 and 21 ms without, back to back).
        checkpointer = try Checkpointer(path: path, housekeeping: HeapControl.trim)
        let storage = NodeStorage(writer: writer, reader: reader, loop: loop, logger: logger)
        self.storage = storage
        let node = try await loop.submit {
            ServerNode(loop: loop, group: group, config: self.config, security: security, databasePath: path, storage: storage,
                       lastSeq: lastSeq, epoch: epoch, requests: requests, logger: logger)
        }.get()
        self.node = node
        node.exitRequested = { [weak self] clean in
            if clean {
                Task { await self?.stop(); exit(0) }
            } else {
                exitLikeACrash()
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
        ticker = loop.scheduleRepeatedTask(initialDelay: ShellContext.tickInterval, delay: ShellContext.tickInterval) { _ in
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
            try? await node.loop.submit { node.leave() }.get()
        }
        await coordination?.close()
        try? await listener?.close().get()
        try? await metricsListener?.close().get()
        if let node {
            try? await node.loop.submit {
                node.context.outbox.closeAll()
                node.replica.close()
            }.get()
        }
        try? await group?.shutdownGracefully()
        storage?.stop()
        checkpointer?.stop()
        logger.notice("stopped")
    }
}

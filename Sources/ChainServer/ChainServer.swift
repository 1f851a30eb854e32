import ChainCore
import ChainServerConfig
import ChainStorage
import ChainTransport
import ChainWire
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
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
    private var coordination: CoordinationDriver?
    private var ticker: RepeatedTask?
    private let stopOnce = NIOLock()
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

    /// Opens storage (the one chain's, or each chain's when a configuration names this server),
    /// starts listening, and joins the cluster through ZooKeeper.
    public func start() async throws {
        try FileManager.default.createDirectory(atPath: config.dataDir, withIntermediateDirectories: true)
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
        // Our own connections leave from the address we listen on when that is one specific IP
        // (OutgoingSource): peers and packet filters then tell servers apart by address. A
        // wildcard or a host name leaves the source to the kernel.
        let oneAddress = (HostName.isIPv4(config.host) || HostName.isIPv6(config.host)) && !HostName.isWildcard(config.host)
        try OutgoingSource.set(oneAddress ? config.host : nil)
        let (dataDir, config) = (self.config.dataDir, self.config)
        let diskFaults = DiskFaultHandler(logger: logger)
        let node = try await loop.submit {
            try ServerNode(loop: loop, group: group, config: config, security: security, logger: logger, diskFaults: diskFaults) { chain in
                try ChainDatabase(path: ChainDatabase.path(dataDir: dataDir, chain: chain), keyIndex: config.keyIndex,
                                  commitDelay: CommitDelay(nanoseconds: min(max(config.commitDelayUs, 0), ServerConfig.commitDelayUsMax) * 1000), loop: loop, logger: logger,
                                  diskFaults: diskFaults)
            }
        }.get()
        self.node = node
        diskFaults.install(onFull: { reason in node.gate.execute { node.diskFilled(reason) } })
        node.exitRequested = { [weak self] clean in
            if clean {
                Task { await self?.stop(); exit(0) }
            } else {
                exitLikeACrash()
            }
        }

        let limiter = ConnectionLimiter(max: config.maxConnections, metrics: node.metrics.operations)
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
                    // No outbound handler may follow FrameBatchEncoder: `Outbox` writes replies
                    // into it directly (`enqueue`), past anything on the tail side of it.
                    try sync.addHandlers([
                        ConnectionGuard(limiter: limiter, frameReadTimeout: frameReadTimeout, idleTimeout: idleTimeout, logger: logger),
                        ByteToMessageHandler(FrameDecoder()),
                        FrameBatchEncoder(),
                    ])
                    if let secret = security.secret { try sync.addHandler(ServerAuthHandler(secret: secret, logger: logger)) }
                    try sync.addHandler(ConnectionHandler(node: node))
                }
            }
            .bind(host: config.host, port: config.port).get()
        logger.notice("listening", metadata: ["listen": "\(config.listenAddress)", "address": "\(config.address)", "id": "\(config.id)"])
        if config.metricsPort > 0, let registry {
            metricsListener = try await MetricsServer.start(host: config.metricsListenHost, port: config.metricsPort, registry: registry,
                                                            node: node, group: group)
            logger.notice("metrics at http://\(HostName.join(config.metricsListenHost, config.metricsPort))/metrics (and /healthz, /readyz)")
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
        var databases: [ChainDatabase] = []
        if let node {
            databases = (try? await node.loop.submit {
                node.context.outbox.closeAll()
                node.headRelay.close()
                return node.closeChains()
            }.get()) ?? []
        }
        // Work still on its way from other threads is dropped from here on (LoopGate).
        node?.gate.close()
        try? await group?.shutdownGracefully()
        for database in databases { database.stop() }
        logger.notice("stopped")
    }
}

import ArgumentParser
import ChainServer
import ChainVersion
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chainkv-server",
        abstract: "A chainkv storage server: one link of the chain.",
        discussion: """
        Reads a JSON node configuration (see conf/nodes/*.json and README "Configuration"); flags
        override its fields. Stops gracefully on SIGTERM or SIGINT.

        Example:
          chainkv-server --config conf/nodes/n1.json
          chainkv-server --id n9 --port 7009 --data-dir /tmp/n9 --zookeeper 127.0.0.1:2181
        """,
        version: ChainVersion.line("chainkv-server")
    )

    @Option(help: "Node configuration file (JSON).") var config: String?
    @Option(help: "Node id.") var id: String?
    @Option(help: "Listen host (0.0.0.0 or :: for every interface; then --advertised-host is required).") var host: String?
    @Option(help: "Host peers and clients dial (default: the listen host).") var advertisedHost: String?
    @Option(help: "Listen host of the metrics endpoint (default: the listen host).") var metricsHost: String?
    @Option(help: "Listen port.") var port: Int?
    @Option(help: "Data directory.") var dataDir: String?
    @Option(help: "ZooKeeper connect string.") var zookeeper: String?
    @Option(help: "Cluster name.") var cluster: String?
    @Option(help: "ZooKeeper session timeout in milliseconds.") var sessionTimeoutMs: Int?
    @Option(help: "Members the first leader waits for before forming the chain.") var expectedMembers: Int?
    @Option(help: "Longest wait for them, in milliseconds.") var formationTimeoutMs: Int?
    @Option(help: "Chains the keys are sharded over (1: one chain of every server).") var chains: Int?
    @Option(help: "Servers in each chain when there are several chains.") var replicationFactor: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String?
    @Option(help: "Read lease in milliseconds (at most half the session timeout).") var leaseMs: Int?
    @Option(help: "Leader's heartbeat interval in milliseconds.") var heartbeatIntervalMs: Int?
    @Option(help: "Milliseconds without a heartbeat answer before the leader drops a member.") var heartbeatTimeoutMs: Int?
    @Option(help: "Port of the HTTP endpoint of /metrics (Prometheus), /healthz and /readyz (0: off).") var metricsPort: Int?
    @Option(help: "Close connections idle this many milliseconds.") var idleTimeoutMs: Int?
    @Option(help: "Close connections that take longer than this many milliseconds to finish a frame.") var frameReadTimeoutMs: Int?
    @Option(help: "Connections held at once; more are refused.") var maxConnections: Int?
    @Option(help: "File with the cluster's shared secret (required from every client and peer).") var secretFile: String?
    @Option(help: "File with ZooKeeper digest credentials user:password (protects the cluster's znodes).") var zookeeperDigestFile: String?
    @Option(help: "TLS certificate chain (PEM).") var tlsCertificateFile: String?
    @Option(help: "TLS private key (PEM).") var tlsPrivateKeyFile: String?
    @Option(help: "CA certificates (PEM) trusted for peer links.") var tlsCAFile: String?
    @Option(help: "Keep keys in order on disk for scans (true, the default) or not (false: writes skip the index, scans are refused).")
    var keyIndex: Bool?
    @Option(help: "After the disk filled, restart and rejoin once this many MiB are free in the data folder (default 256).")
    var diskFullResumeMb: Int?
    @Option(help: "Microseconds a group commit may wait for more updates to share its fsync, once writers are concurrent (default 3000: less CPU per write; 0 never waits: lower latency where the cores have room; at most 10000).")
    var commitDelayUs: Int?

    static func main() async {
        // At most two malloc arenas instead of glibc's 8 per core. Each thread that allocates
        // (event loop, group committer, checkpointer, ZooKeeper's, Swift's pool) otherwise gets an
        // arena of its own, each holding its own free memory; at 1,000,000 entries they held
        // about 200 MiB between them. Set first, before more threads allocate.
        HeapControl.limitArenas(2)
        // Before anything opens a file: what the parent handed down stays open across the exec
        // of a restart after a full disk (ProcessRestart).
        ProcessRestart.recordInheritedDescriptors()
        await Self.main(nil)
    }

    func run() async throws {
        var cfg: ServerConfig
        do {
            if let path = config {
                cfg = try ServerConfig.load(path: path)
            } else {
                guard let id, let port, let dataDir else {
                    throw ValidationError("give --config, or at least --id, --port and --data-dir")
                }
                cfg = ServerConfig(id: id, port: port, dataDir: dataDir)
            }
            if let id { cfg.id = id }
            if let host { cfg.host = host }
            if let advertisedHost { cfg.advertisedHost = advertisedHost }
            if let metricsHost { cfg.metricsHost = metricsHost }
            if let keyIndex { cfg.keyIndex = keyIndex }
            if let diskFullResumeMb { cfg.diskFullResumeMiB = diskFullResumeMb }
            if let commitDelayUs { cfg.commitDelayUs = commitDelayUs }
            if let port { cfg.port = port }
            if let dataDir { cfg.dataDir = dataDir }
            if let zookeeper { cfg.zookeeper = zookeeper }
            if let cluster { cfg.cluster = cluster }
            if let sessionTimeoutMs { cfg.sessionTimeoutMs = sessionTimeoutMs }
            if let expectedMembers { cfg.expectedMembers = expectedMembers }
            if let formationTimeoutMs { cfg.formationTimeoutMs = formationTimeoutMs }
            if let chains { cfg.chains = chains }
            if let replicationFactor { cfg.replicationFactor = replicationFactor }
            if let logLevel { cfg.logLevel = logLevel }
            if let leaseMs { cfg.leaseMs = leaseMs }
            if let heartbeatIntervalMs { cfg.heartbeatIntervalMs = heartbeatIntervalMs }
            if let heartbeatTimeoutMs { cfg.heartbeatTimeoutMs = heartbeatTimeoutMs }
            if let metricsPort { cfg.metricsPort = metricsPort }
            if let idleTimeoutMs { cfg.idleTimeoutMs = idleTimeoutMs }
            if let frameReadTimeoutMs { cfg.frameReadTimeoutMs = frameReadTimeoutMs }
            if let maxConnections { cfg.maxConnections = maxConnections }
            if let secretFile { cfg.secretFile = secretFile }
            if let zookeeperDigestFile { cfg.zookeeperDigestFile = zookeeperDigestFile }
            if let tlsCertificateFile { cfg.tlsCertificateFile = tlsCertificateFile }
            if let tlsPrivateKeyFile { cfg.tlsPrivateKeyFile = tlsPrivateKeyFile }
            if let tlsCAFile { cfg.tlsCAFile = tlsCAFile }
            try cfg.validate()
            // An address no interface holds (or a name that does not resolve) fails here, in one line.
            if let reason = HostName.listenProblem(cfg.host) { throw ConfigError(field: "host", reason: reason) }
            if cfg.metricsPort > 0, let reason = HostName.listenProblem(cfg.metricsListenHost) {
                throw ConfigError(field: cfg.metricsHost == nil ? "host" : "metricsHost", reason: reason)
            }
            try cfg.checkDataDir()
            // The files it names must be usable too: fail here with one line, not later.
            _ = try ServerSecurity.load(cfg)
            raiseOpenFileLimit(wanted: cfg.maxConnections)
        } catch let error as ConfigError {
            let line = Array("chainkv-server: \(error)\n".utf8)
            _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            throw ExitCode(2)
        }
        let level = Logger.Level(rawValue: cfg.logLevel) ?? .info
        let fileLimit = openFileLimit()
        // logfmt on standard error, message first, millisecond UTC timestamps (README, "Logs and shutdown").
        LoggingSystem.bootstrap { label in LogfmtLogHandler(label: label, level: level) }
        var logger = Logger(label: "chainkv.\(cfg.id)")
        logger.logLevel = level
        logger.notice("starting", metadata: ["version": "\(ChainVersion.number)", "commit": "\(ChainVersion.commit)"])
        if fileLimit < UInt64(cfg.maxConnections) + Self.spareFiles {
            logger.warning("open file limit is below maxConnections plus what the server needs besides; connections may fail before the limit",
                           metadata: ["openFileLimit": "\(fileLimit)", "maxConnections": "\(cfg.maxConnections)"])
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(ChainMetricsFactory(registry: registry))
        let server = ChainServer(config: cfg, logger: logger, registry: registry)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup,
                             failureTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}

extension ServerCommand {
    /// Files the server holds besides connections: SQLite (database, WAL, shared memory, snapshot
    /// readers), ZooKeeper's socket and pipes, the event loop, the listeners, logs.
    static let spareFiles: UInt64 = 64

    /// Raises the soft open-file limit toward the hard one, enough for `wanted` connections.
    func raiseOpenFileLimit(wanted: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let need = UInt64(wanted) + Self.spareFiles
        guard limit.rlim_cur < need else { return }
        limit.rlim_cur = rlim_t(min(need, UInt64(limit.rlim_max)))
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    func openFileLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return .max }
        return UInt64(limit.rlim_cur)
    }
}

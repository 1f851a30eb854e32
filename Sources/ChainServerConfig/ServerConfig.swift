import ChainFiles
import FoundationEssentials
import Logging

/// A server's configuration: one JSON file per node (see conf/nodes/), every field checked at
/// start-up, with command-line overrides applied by the executable before `validate()`.
public struct ServerConfig: Codable, Equatable, Sendable {
    /// The node id: the member znode's name and this server's name in the chain.
    public var id: String
    /// Address the server listens on for clients and peers (`0.0.0.0` or `::`: every interface).
    /// Loopback by default.
    public var host: String
    /// Address peers and clients are told to dial (the member znode, chain and slot answers);
    /// nil: `host`, which must then be a real address, not a wildcard.
    public var advertisedHost: String?
    /// Address the metrics endpoint listens on; nil: `host`.
    public var metricsHost: String?
    public var port: Int
    /// Folder of this server's SQLite database (created if missing).
    public var dataDir: String
    /// ZooKeeper connect string, e.g. "127.0.0.1:2181,127.0.0.1:2182".
    public var zookeeper: String
    /// Cluster name: the znodes live under /chainkv/<cluster>.
    public var cluster: String
    /// ZooKeeper session timeout: a server cut off from ZooKeeper this long loses its znodes and
    /// exits. A crashed server is noticed sooner, from its refused connections.
    public var sessionTimeoutMs: Int
    /// A head answers reads for this long after ZooKeeper last confirmed it still holds its member
    /// znode (`LeaseTiming`); a head the leader cannot reach is replaced after 1.25× this.
    public var leaseMs: Int
    /// Members the first leader waits for before it forms the first chain...
    public var expectedMembers: Int
    /// ...but no longer than this; then it forms a chain of whoever registered.
    public var formationTimeoutMs: Int
    /// Chains the keys are sharded over (hash slots, see README "Shards"). 0 (the default): one
    /// chain per server, counted when the chains are formed; 1: the paper's single chain of every
    /// server; more: that many. Each chain has `replicationFactor` servers. Every server of a
    /// cluster must be configured alike; it takes effect when the chains are formed.
    public var chains: Int
    /// Replicas of each chain when `chains` is above 1 (every server if there are fewer).
    public var replicationFactor: Int
    /// trace, debug, info, notice, warning, error, critical.
    public var logLevel: String
    /// How often the leader pings every member (the paper's heartbeats)...
    public var heartbeatIntervalMs: Int
    /// ...and how long a member may go unanswered before the leader drops it from the chain.
    public var heartbeatTimeoutMs: Int
    /// HTTP port of the Prometheus metrics endpoint (`GET /metrics`); 0 turns it off.
    public var metricsPort: Int
    /// A connection that neither sends nor receives anything for this long is closed (clients
    /// reconnect on their own; peer links carry acks and pings every second or so).
    public var idleTimeoutMs: Int
    /// A frame whose first byte has arrived must be complete within this long, or the connection
    /// is closed: a sender trickling bytes cannot hold a connection and its buffer forever.
    public var frameReadTimeoutMs: Int
    /// Connections (clients and peers) this server holds at once; one more is refused at once.
    public var maxConnections: Int
    /// File holding the cluster's shared secret; when set, every connection (clients, peers, the
    /// CLI) must prove it holds the secret before anything else. nil: no authentication.
    public var secretFile: String?
    /// File holding "user:password" for ZooKeeper digest authentication; when set, the cluster's
    /// znodes are created writable by that identity only (readable by anyone).
    public var zookeeperDigestFile: String?
    /// TLS on every client and peer connection: this server's certificate chain and private key
    /// (PEM), and the CA certificates it trusts when it dials its peers. All three or none.
    public var tlsCertificateFile: String?
    public var tlsPrivateKeyFile: String?
    public var tlsCAFile: String?
    /// Keep keys in order on disk (an index of each chain's file) for range and prefix scans.
    /// Off, writes skip its upkeep and scans are refused; turning it on builds it at start.
    public var keyIndex: Bool
    /// After its disk filled, the server restarts and rejoins once this many MiB are free in its
    /// data folder again (README, "Disk faults"). 256 by default: the WAL of each chain's
    /// database grows to 128 MiB under writes (`Store.walBudgetBytes`), so resuming with less
    /// would fill the disk again at the first burst; a server in several busy chains may want
    /// 128 MiB more for each.
    public var diskFullResumeMiB: Int
    /// Microseconds a group commit may wait for more updates to share its fsync, once the last
    /// commit showed concurrent writers (`CommitDelay`: at least 4 updates); 0 never waits. 3,000
    /// by default: long enough for 32 closed-loop writers' updates to share one commit on the
    /// 2-core machine (0.82× the server CPU per write of 1,000, at the same writes a second and p99;
    /// README, "cut 33"), and a lone writer does not wait. An open load near the machine's capacity
    /// pays it in latency: 1.4–1.6 ms on the median write at 2,500–4,000 writes a second, for 0.70×
    /// the CPU (README, "the 3 ms commit delay under open loads"); 0 suits spare cores. At most 10,000.
    public var commitDelayUs: Int

    public init(id: String, host: String = "127.0.0.1", port: Int, dataDir: String, zookeeper: String = "127.0.0.1:2181",
                cluster: String = "local", sessionTimeoutMs: Int = 6000, leaseMs: Int = 300, expectedMembers: Int = 1,
                formationTimeoutMs: Int = 3000, chains: Int = 0, replicationFactor: Int = 3, logLevel: String = "info",
                heartbeatIntervalMs: Int = 250, heartbeatTimeoutMs: Int = 1500, metricsPort: Int = 0,
                idleTimeoutMs: Int = 300_000, frameReadTimeoutMs: Int = 10_000, maxConnections: Int = 1024,
                secretFile: String? = nil, zookeeperDigestFile: String? = nil,
                tlsCertificateFile: String? = nil, tlsPrivateKeyFile: String? = nil, tlsCAFile: String? = nil,
                advertisedHost: String? = nil, metricsHost: String? = nil, keyIndex: Bool = true,
                diskFullResumeMiB: Int = 256, commitDelayUs: Int = 3000) {
        self.diskFullResumeMiB = diskFullResumeMiB
        self.commitDelayUs = commitDelayUs
        self.id = id
        self.host = host
        self.advertisedHost = advertisedHost
        self.metricsHost = metricsHost
        self.port = port
        self.dataDir = dataDir
        self.zookeeper = zookeeper
        self.cluster = cluster
        self.sessionTimeoutMs = sessionTimeoutMs
        self.leaseMs = leaseMs
        self.expectedMembers = expectedMembers
        self.formationTimeoutMs = formationTimeoutMs
        self.chains = chains
        self.replicationFactor = replicationFactor
        self.logLevel = logLevel
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.heartbeatTimeoutMs = heartbeatTimeoutMs
        self.metricsPort = metricsPort
        self.idleTimeoutMs = idleTimeoutMs
        self.frameReadTimeoutMs = frameReadTimeoutMs
        self.maxConnections = maxConnections
        self.secretFile = secretFile
        self.zookeeperDigestFile = zookeeperDigestFile
        self.tlsCertificateFile = tlsCertificateFile
        self.tlsPrivateKeyFile = tlsPrivateKeyFile
        self.tlsCAFile = tlsCAFile
        self.keyIndex = keyIndex
    }

    /// The longest commit delay: 10 ms. A commit that waited longer would add more latency than
    /// the fsyncs it saves are worth: a commit here takes about a millisecond.
    public static let commitDelayUsMax = 10_000

    /// Most chains of one cluster (`ClusterLeader.chainsMax`).
    public static let chainsMax = 256

    /// Whether keys are sharded over chains (slot map, `chains/<id>` znodes): all but `chains` 1.
    public var sharded: Bool { chains != 1 }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, host, port, dataDir, zookeeper, cluster, sessionTimeoutMs, leaseMs, expectedMembers, formationTimeoutMs, logLevel
        case heartbeatIntervalMs, heartbeatTimeoutMs, metricsPort, chains, replicationFactor
        case idleTimeoutMs, frameReadTimeoutMs, maxConnections, secretFile, zookeeperDigestFile
        case tlsCertificateFile, tlsPrivateKeyFile, tlsCAFile, advertisedHost, metricsHost, keyIndex
        case diskFullResumeMiB, commitDelayUs
    }

    /// Fields may be omitted where a default exists; unknown fields are an error (a typo must not
    /// silently fall back to a default).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ServerConfig(id: "", port: 0, dataDir: "")
        id = try c.decode(String.self, forKey: .id)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        advertisedHost = try c.decodeIfPresent(String.self, forKey: .advertisedHost)
        metricsHost = try c.decodeIfPresent(String.self, forKey: .metricsHost)
        port = try c.decode(Int.self, forKey: .port)
        dataDir = try c.decode(String.self, forKey: .dataDir)
        zookeeper = try c.decodeIfPresent(String.self, forKey: .zookeeper) ?? d.zookeeper
        cluster = try c.decodeIfPresent(String.self, forKey: .cluster) ?? d.cluster
        sessionTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .sessionTimeoutMs) ?? d.sessionTimeoutMs
        leaseMs = try c.decodeIfPresent(Int.self, forKey: .leaseMs) ?? d.leaseMs
        expectedMembers = try c.decodeIfPresent(Int.self, forKey: .expectedMembers) ?? d.expectedMembers
        formationTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .formationTimeoutMs) ?? d.formationTimeoutMs
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? d.logLevel
        chains = try c.decodeIfPresent(Int.self, forKey: .chains) ?? d.chains
        replicationFactor = try c.decodeIfPresent(Int.self, forKey: .replicationFactor) ?? d.replicationFactor
        heartbeatIntervalMs = try c.decodeIfPresent(Int.self, forKey: .heartbeatIntervalMs) ?? d.heartbeatIntervalMs
        heartbeatTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .heartbeatTimeoutMs) ?? d.heartbeatTimeoutMs
        metricsPort = try c.decodeIfPresent(Int.self, forKey: .metricsPort) ?? d.metricsPort
        idleTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .idleTimeoutMs) ?? d.idleTimeoutMs
        frameReadTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .frameReadTimeoutMs) ?? d.frameReadTimeoutMs
        maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections) ?? d.maxConnections
        secretFile = try c.decodeIfPresent(String.self, forKey: .secretFile)
        zookeeperDigestFile = try c.decodeIfPresent(String.self, forKey: .zookeeperDigestFile)
        tlsCertificateFile = try c.decodeIfPresent(String.self, forKey: .tlsCertificateFile)
        tlsPrivateKeyFile = try c.decodeIfPresent(String.self, forKey: .tlsPrivateKeyFile)
        tlsCAFile = try c.decodeIfPresent(String.self, forKey: .tlsCAFile)
        keyIndex = try c.decodeIfPresent(Bool.self, forKey: .keyIndex) ?? d.keyIndex
        diskFullResumeMiB = try c.decodeIfPresent(Int.self, forKey: .diskFullResumeMiB) ?? d.diskFullResumeMiB
        commitDelayUs = try c.decodeIfPresent(Int.self, forKey: .commitDelayUs) ?? d.commitDelayUs
        let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            .filter { k in !CodingKeys.allCases.contains { $0.stringValue == k } }
        if let bad = unknown.first { throw ConfigError(field: bad, reason: "unknown field") }
    }

    /// Reads and validates a configuration file. Errors name the file and the field.
    public static func load(path: String) throws -> ServerConfig {
        let data: Data
        switch BoundedFile.contents(of: path, limit: 64 << 10) {
        case .contents(let bytes): data = Data(bytes)
        case .tooLarge: throw ConfigError(field: "-", reason: "\(path) is over 64 KiB")
        case .unreadable: throw ConfigError(field: "-", reason: "cannot read \(path)")
        }
        do {
            return try JSONDecoder().decode(ServerConfig.self, from: data)
        } catch let error as ConfigError {
            throw error
        } catch DecodingError.keyNotFound(let key, _) {
            throw ConfigError(field: key.stringValue, reason: "missing")
        } catch DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx) {
            throw ConfigError(field: ctx.codingPath.map(\.stringValue).joined(separator: "."), reason: "wrong type")
        } catch {
            throw ConfigError(field: "-", reason: "\(path) is not valid JSON")
        }
    }

    public func validate() throws {
        func fail(_ field: CodingKeys, _ reason: String) -> ConfigError { ConfigError(field: field.stringValue, reason: reason) }
        let idOK = !id.isEmpty && id.utf8.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        guard idOK else { throw fail(.id, "must be 1–64 characters of [A-Za-z0-9_-], got \"\(id)\"") }
        if let reason = HostName.problem(host) { throw fail(.host, reason) }
        if let advertisedHost {
            if let reason = HostName.problem(advertisedHost) { throw fail(.advertisedHost, reason) }
            guard !HostName.isWildcard(advertisedHost) else {
                throw fail(.advertisedHost, "must be an address peers and clients can dial, not the wildcard \(advertisedHost)")
            }
        } else if HostName.isWildcard(host) {
            throw fail(.advertisedHost, "required when host is the wildcard \(host): the address peers and clients dial")
        }
        if let metricsHost, let reason = HostName.problem(metricsHost) { throw fail(.metricsHost, reason) }
        guard (1...65535).contains(port) else { throw fail(.port, "must be 1–65535, got \(port)") }
        guard !dataDir.isEmpty else { throw fail(.dataDir, "must not be empty") }
        guard !zookeeper.isEmpty, zookeeper.split(separator: ",").allSatisfy({ $0.contains(":") }) else {
            throw fail(.zookeeper, "must be host:port[,host:port...], got \"\(zookeeper)\"")
        }
        let clusterOK = !cluster.isEmpty && cluster.utf8.count <= 64 && cluster.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        guard clusterOK else { throw fail(.cluster, "must be 1–64 characters of [A-Za-z0-9_-], got \"\(cluster)\"") }
        guard (1000...600_000).contains(sessionTimeoutMs) else { throw fail(.sessionTimeoutMs, "must be 1000–600000, got \(sessionTimeoutMs)") }
        // The lease must end before ZooKeeper can expire the session (README, "No stale reads"):
        // at most half the session timeout, the same clock-rate margin as before.
        guard (100...sessionTimeoutMs / 2).contains(leaseMs) else {
            throw fail(.leaseMs, "must be 100 ms to half of sessionTimeoutMs (\(sessionTimeoutMs / 2)), got \(leaseMs)")
        }
        guard (1...1_048_576).contains(diskFullResumeMiB) else {
            throw fail(.diskFullResumeMiB, "must be 1–1048576, got \(diskFullResumeMiB)")
        }
        guard (0...Self.commitDelayUsMax).contains(commitDelayUs) else {
            throw fail(.commitDelayUs, "must be 0–\(Self.commitDelayUsMax) (microseconds; 0 never waits), got \(commitDelayUs)")
        }
        guard (1...64).contains(expectedMembers) else { throw fail(.expectedMembers, "must be 1–64, got \(expectedMembers)") }
        guard (0...Self.chainsMax).contains(chains) else {
            throw fail(.chains, "must be 0 (one per server) to \(Self.chainsMax), got \(chains)")
        }
        guard (1...16).contains(replicationFactor) else { throw fail(.replicationFactor, "must be 1–16, got \(replicationFactor)") }
        guard (0...600_000).contains(formationTimeoutMs) else { throw fail(.formationTimeoutMs, "must be 0–600000, got \(formationTimeoutMs)") }
        guard (50...60_000).contains(heartbeatIntervalMs) else { throw fail(.heartbeatIntervalMs, "must be 50–60000, got \(heartbeatIntervalMs)") }
        guard (heartbeatIntervalMs * 2...600_000).contains(heartbeatTimeoutMs) else {
            throw fail(.heartbeatTimeoutMs, "must be at least twice heartbeatIntervalMs and at most 600000, got \(heartbeatTimeoutMs)")
        }
        guard (0...65535).contains(metricsPort), metricsPort != port else {
            throw fail(.metricsPort, "must be 0 (off) or a port 1–65535 other than port, got \(metricsPort)")
        }
        guard (1000...86_400_000).contains(idleTimeoutMs) else { throw fail(.idleTimeoutMs, "must be 1000–86400000, got \(idleTimeoutMs)") }
        guard (100...600_000).contains(frameReadTimeoutMs) else {
            throw fail(.frameReadTimeoutMs, "must be 100–600000, got \(frameReadTimeoutMs)")
        }
        guard (1...1_000_000).contains(maxConnections) else { throw fail(.maxConnections, "must be 1–1000000, got \(maxConnections)") }
        for (field, value) in [(CodingKeys.secretFile, secretFile), (.zookeeperDigestFile, zookeeperDigestFile),
                               (.tlsCertificateFile, tlsCertificateFile), (.tlsPrivateKeyFile, tlsPrivateKeyFile), (.tlsCAFile, tlsCAFile)] {
            if let value, value.isEmpty || value.utf8.count > 4096 { throw fail(field, "must be a file path (or left out)") }
        }
        let tlsSet = [tlsCertificateFile, tlsPrivateKeyFile, tlsCAFile].filter { $0 != nil }.count
        guard tlsSet == 0 || tlsSet == 3 else {
            throw fail(tlsCertificateFile == nil ? .tlsCertificateFile : tlsPrivateKeyFile == nil ? .tlsPrivateKeyFile : .tlsCAFile,
                       "TLS needs tlsCertificateFile, tlsPrivateKeyFile and tlsCAFile together")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw fail(.logLevel, "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(logLevel)\"")
        }
    }

    /// The host peers and clients dial: `advertisedHost`, else `host`.
    public var advertised: String { advertisedHost ?? host }
    /// The host the metrics endpoint listens on: `metricsHost`, else `host`.
    public var metricsListenHost: String { metricsHost ?? host }
    /// `advertised:port`, the address this server is known by.
    public var address: String { "\(advertised):\(port)" }
    /// `host:port`, where it listens.
    public var listenAddress: String { HostName.join(host, port) }
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "configuration error: \(field): \(reason)" }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension ServerConfig {
    /// Refuses a data folder written in the other mode: `chainkv.sqlite` is the single chain's
    /// database, `chainkv-<chain>.sqlite` a sharded cluster's. Starting a cluster with the other
    /// `chains` setting would form new, empty chains and hide every key it holds.
    public func checkDataDir() throws {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dataDir)) ?? []
        if sharded, files.contains("chainkv.sqlite") {
            throw ConfigError(field: "chains", reason: "\(dataDir) holds chainkv.sqlite, the database of a single-chain cluster; "
                              + "run it with \"chains\": 1 (--chains 1), or move the file away to start a sharded cluster")
        }
        if !sharded, let file = files.first(where: { $0.hasPrefix("chainkv-") && $0.hasSuffix(".sqlite") }) {
            throw ConfigError(field: "chains", reason: "\(dataDir) holds \(file), a database of a sharded cluster; "
                              + "run it with the cluster's \"chains\" (0: one per server), or move it away")
        }
    }
}

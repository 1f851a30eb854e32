import ChainKV
import ChainStorage
import ChainWire
import Foundation
import XCTest

/// A chain of real `chainkv-server` processes on loopback against the real ZooKeeper fixture,
/// each test with its own cluster name, ports and data folders.
final class ClusterFixture: @unchecked Sendable {
    struct Node {
        var id: String
        var port: Int
        var dataDir: URL
        var process: Process?
        var log: URL
        var metricsPort: Int
        var hosts = ServerHosts()
    }

    /// Where one server listens and what it advertises (nil: the server's default; all nil: 127.0.0.1).
    struct ServerHosts {
        var listen: String?
        var advertised: String?
        var metrics: String?
        /// The host peers and the fixture's clients dial.
        var dial: String { advertised ?? listen ?? "127.0.0.1" }
        /// The host the fixture scrapes metrics at.
        var metricsDial: String { metrics ?? (listen == "0.0.0.0" ? dial : listen ?? "127.0.0.1") }
    }

    let cluster: String
    let zookeeper: String
    let base: URL
    private(set) var nodes: [Node] = []

    /// ZooKeeper connect string per server index, where it differs (e.g. through a proxy).
    private let zookeeperOverride: [Int: String]
    /// Extra `chainkv-server` flags for every server (limits, secret, TLS).
    let serverArguments: [String]
    /// Extra environment of server `i` (the disk-fault shim's LD_PRELOAD), where it has any.
    var serverEnvironment: [Int: [String: String]]
    /// Extra flags of server `i` (after every other, so they override them), where it has any.
    var argumentsFor: [Int: [String]]
    /// What the fixture's own clients use to reach servers configured with a secret or TLS.
    let clientSecurity: ConnectionSecurity

    /// Chains the keys are sharded over (1: the single chain of every server), of `replicas` each.
    let chains: Int
    let replicas: Int

    /// - Parameters:
    ///   - serverArguments: flags after the fixture's own, so they also override them (an option's last value counts).
    ///   - formed: wait until the chains are formed (else only until every server has started).
    ///   - hosts: listen, advertised and metrics hosts of server `i`, where they are not 127.0.0.1.
    init(size: Int, chains: Int = 1, replicas: Int = 3, name: String = #function, serverArguments: [String] = [], formed: Bool = true,
         clientSecurity: ConnectionSecurity = .none, hosts: [Int: ServerHosts] = [:],
         environment: [Int: [String: String]] = [:], argumentsFor: [Int: [String]] = [:],
         zookeeperFor override: (String) throws -> [Int: String] = { _ in [:] }) throws {
        self.chains = chains
        self.replicas = replicas
        zookeeper = try ZooKeeperFixture.shared.connectString()
        zookeeperOverride = try override(zookeeper)
        self.serverArguments = serverArguments
        self.serverEnvironment = environment
        self.argumentsFor = argumentsFor
        self.clientSecurity = clientSecurity
        let clean = name.filter { $0.isLetter || $0.isNumber }
        cluster = "t\(clean.prefix(40))\(UInt32.random(in: 0...UInt32.max))"
        base = try TestEnvironment.temporaryDirectory("cluster")
        for i in 1...size {
            let dir = base.appendingPathComponent("n\(i)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            nodes.append(Node(id: "n\(i)", port: TestEnvironment.freePort(), dataDir: dir, process: nil,
                              log: dir.appendingPathComponent("server.log"), metricsPort: TestEnvironment.freePort(),
                              hosts: hosts[i - 1] ?? ServerHosts()))
        }
        for i in nodes.indices { try start(i) }
        if !formed {
            try waitStarted()
        } else if chains != 1 {
            try waitForShards()
        } else {
            try waitForChain(members: size)
        }
    }

    var servers: [String] { nodes.map { "\($0.hosts.dial):\($0.port)" } }
    func address(_ i: Int) -> String { "\(nodes[i].hosts.dial):\(nodes[i].port)" }
    func dbPath(_ i: Int) -> String { nodes[i].dataDir.appendingPathComponent("chainkv.sqlite").path }
    /// Server `i`'s database of chain `chain` in a sharded cluster.
    func dbPath(_ i: Int, chain: String) -> String { nodes[i].dataDir.appendingPathComponent("chainkv-\(chain).sqlite").path }

    /// Adds server n<count+1> with data folder, ports and log of its own, and starts it.
    @discardableResult
    func addServer() throws -> Int {
        let i = nodes.count
        let dir = base.appendingPathComponent("n\(i + 1)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        nodes.append(Node(id: "n\(i + 1)", port: TestEnvironment.freePort(), dataDir: dir, process: nil,
                          log: dir.appendingPathComponent("server.log"), metricsPort: TestEnvironment.freePort()))
        try start(i)
        return i
    }

    func start(_ i: Int) throws {
        let n = nodes[i]
        let p = Process()
        p.executableURL = TestEnvironment.binDir.appendingPathComponent("chainkv-server")
        p.arguments = ["--id", n.id, "--port", "\(n.port)", "--data-dir", n.dataDir.path, "--zookeeper", zookeeperOverride[i] ?? zookeeper,
                       "--cluster", cluster, "--expected-members", "\(nodes.count)", "--formation-timeout-ms", "10000",
                       "--session-timeout-ms", "4000", "--heartbeat-interval-ms", "250", "--heartbeat-timeout-ms", "1500",
                       "--metrics-port", "\(n.metricsPort)",
                       "--log-level", "debug", "--chains", "\(chains)", "--replication-factor", "\(replicas)"]
        var hostArguments: [String] = []
        if let listen = n.hosts.listen { hostArguments += ["--host", listen] }
        if let advertised = n.hosts.advertised { hostArguments += ["--advertised-host", advertised] }
        if let metrics = n.hosts.metrics { hostArguments += ["--metrics-host", metrics] }
        p.arguments! += hostArguments + serverArguments + (argumentsFor[i] ?? [])
        if let extra = serverEnvironment[i] {
            // "{dataDir}" stands for the server's data folder, which is made here.
            let values = extra.mapValues { $0.replacingOccurrences(of: "{dataDir}", with: n.dataDir.path) }
            p.environment = ProcessInfo.processInfo.environment.merging(values) { $1 }
        }
        if !FileManager.default.fileExists(atPath: n.log.path) { _ = FileManager.default.createFile(atPath: n.log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: n.log)
        handle.seekToEndOfFile()
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        nodes[i].process = p
    }

    /// Waits until the chain has `members` members, asking through the client library.
    func waitForChain(members: Int, timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = "no answer"
        while Date() < deadline {
            let c = PaperClient(security: clientSecurity)
            if c.`init`(servers: servers, port: 0) == PaperClient.ok, let info = try? chainInfo(), info.members.count == members, allStarted {
                // Every running server has finished starting (registered, watching, a candidate):
                // a ZooKeeper connection lost before that ends a server (StaleReadTests cuts it).
                _ = c.shutdown()
                return
            } else if let info = try? chainInfo() {
                last = "\(info.members.map(\.id))"
            }
            _ = c.shutdown()
            usleep(200_000)
        }
        throw FixtureError("chain of \(members) did not form within \(Int(timeout)) s (last: \(last)); logs in \(base.path)")
    }

    /// Waits until every chain of a sharded cluster has `members` members (all `replicas` by
    /// default) and every running server is ready.
    func waitForShards(members: Int? = nil, timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = "no answer"
        while Date() < deadline {
            if let map = try? shards() {
                last = map.chains.map { "\($0.id): \($0.chain.members.map(\.id))" }.joined(separator: ", ")
                if map.chains.count == (chains == 0 ? nodes.count : chains), map.chains.allSatisfy({ $0.chain.members.count == members ?? min(replicas, nodes.count) }),
                   allStarted {
                    return
                }
            }
            usleep(200_000)
        }
        throw FixtureError("\(chains == 0 ? nodes.count : chains) chains did not form within \(Int(timeout)) s (last: \(last)); logs in \(base.path)")
    }

    /// Whether every running server has finished starting (logged `server ready`).
    var allStarted: Bool { nodes.indices.allSatisfy { !isRunning($0) || log($0).contains("server ready") } }

    /// Waits until every running server has logged `server ready`.
    func waitStarted(timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if allStarted { return }
            usleep(100_000)
        }
        throw FixtureError("servers did not start within \(Int(timeout)) s; logs in \(base.path)")
    }

    /// The slot map and every chain's members, as the client library learns them.
    func shards() throws -> ShardMap {
        let client = try ChainKVClient(servers: servers, options: clientOptions)
        defer { client.beginShutdown() }
        return try blockingTest { try await client.shards() }
    }

    /// Options for a client of this cluster (its secret and TLS, if any).
    var clientOptions: ChainKVClient.Options {
        var options = ChainKVClient.Options()
        options.security = clientSecurity
        return options
    }

    func chainInfo() throws -> ChainInfo {
        let client = try ChainKVClient(servers: servers, options: clientOptions)
        defer { client.beginShutdown() }
        return try blockingTest { try await client.chain() }
    }

    func metricsPort(_ i: Int) -> Int { nodes[i].metricsPort }
    /// `host:port` of server `i`'s metrics endpoint.
    func metricsAddress(_ i: Int) -> String { "\(nodes[i].hosts.metricsDial):\(nodes[i].metricsPort)" }

    func pid(_ i: Int) -> pid_t { nodes[i].process?.processIdentifier ?? 0 }

    func isRunning(_ i: Int) -> Bool { nodes[i].process?.isRunning ?? false }

    /// Waits (at most 15 s) for server `i` to exit by itself.
    func waitExit(_ i: Int) {
        let deadline = Date().addingTimeInterval(15)
        while isRunning(i) && Date() < deadline { usleep(20_000) }
    }

    func exitStatus(_ i: Int) -> Int32? {
        guard let p = nodes[i].process, !p.isRunning else { return nil }
        return p.terminationStatus
    }

    func log(_ i: Int) -> String { (try? String(contentsOf: nodes[i].log, encoding: .utf8)) ?? "" }

    func kill(_ i: Int, signal: Int32 = SIGKILL) {
        guard let p = nodes[i].process, p.isRunning else { return }
        Foundation.kill(p.processIdentifier, signal)
        p.waitUntilExit()
    }

    /// Stops every server (SIGTERM, then SIGKILL after 10 s).
    func stop() {
        for n in nodes {
            if let p = n.process, p.isRunning { p.terminate() }
        }
        for n in nodes {
            guard let p = n.process else { continue }
            let deadline = Date().addingTimeInterval(10)
            while p.isRunning && Date() < deadline { usleep(20_000) }
            if p.isRunning { Foundation.kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        }
    }

    /// Every row of a server's SQLite file, read from the file itself.
    func rows(_ i: Int) throws -> [Row] {
        let store = try Store(path: dbPath(i))
        defer { store.close() }
        return try store.allRows(limit: 10_000_000).map { Row(key: $0.key, value: $0.value) }
    }

    func logs() -> String {
        nodes.map { n in "== \(n.id) ==\n" + ((try? String(contentsOf: n.log, encoding: .utf8)) ?? "").suffix(4000) }.joined(separator: "\n")
    }

    deinit { stop() }
}

/// Runs async client code from a synchronous XCTest method.
@discardableResult
func blockingTest<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let semaphore = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, Error>?
    Task.detached {
        do { result = .success(try await body()) } catch { result = .failure(error) }
        semaphore.signal()
    }
    semaphore.wait()
    return try result!.get()
}

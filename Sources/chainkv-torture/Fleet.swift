import ChainKV
import ChainTestSupport
import ChainWire
import Foundation
import NIOPosix

/// Five chainkv servers. Each reaches ZooKeeper only through its own proxies (one per ZooKeeper
/// server), so the nemesis can cut one server off from ZooKeeper while it keeps running; with the
/// disk-fault shim (scripts/diskfault.c), each preloads it, switched by a control file of its own.
///
/// Each server listens on a loopback address of its own (`hosts`, 127.0.1.x from the run's
/// `HostBlock`), and its own connections to its peers leave from it (the server's
/// `OutgoingSource`); the runner's clients leave from 127.0.0.1, and so do the servers'
/// connections to their ZooKeeper proxies (127.0.0.1). So a packet filter rule on addresses cuts
/// one link between servers, or a server from its clients, and nothing else (`NetworkCuts`).
final class Fleet: @unchecked Sendable {
    let servers: [Child]
    let hosts: [String]
    let ports: [Int]
    let dataDirs: [URL]
    private let proxies: [[TCPProxy]]
    let sessionTimeoutMs = 3000
    /// The servers' cluster name (its znodes sit under /chainkv/torture).
    static let cluster = "torture"

    /// Chains the keys are sharded over (1: one chain of every server), of `replicas` servers.
    let chains: Int
    var replicas: Int { chains == 1 ? servers.count : 3 }

    /// Servers not started yet (the sixth of a growth run until it joins): never restarted.
    private(set) var reserved: Set<Int>

    /// Whether every server preloads the disk-fault shim; `controls[i]` is server i's control file.
    let diskFaults: Bool
    private let controls: [URL]

    /// Cuts between the servers' addresses (nil: no nft, or not allowed): the partition kinds.
    let net: NetworkCuts?

    /// - Parameter later: how many of the `size` servers start only when `join` is called; the
    ///   cluster forms from the others (`--expected-members`).
    /// - Parameter hosts: each server's address (`size` of them).
    init(base: URL, binDir: URL, ensemble: Ensemble, hosts: [String], net: NetworkCuts?, size: Int = 5, chains: Int = 1, later: Int = 0,
         diskFaultLibrary: URL? = nil) throws {
        precondition(hosts.count == size)
        self.hosts = hosts
        self.net = net
        self.chains = chains
        let controls = (1...size).map { base.appendingPathComponent("n\($0).diskfault") }
        diskFaults = diskFaultLibrary != nil
        self.controls = controls
        reserved = Set((size - later)..<size)
        var servers: [Child] = [], ports: [Int] = [], dirs: [URL] = [], proxies: [[TCPProxy]] = []
        for i in 1...size {
            let dir = base.appendingPathComponent("n\(i)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let host = hosts[i - 1]
            let port = LoopbackPorts.free(on: host)
            let mine = try ensemble.clientPorts.map { try TCPProxy(forwardingTo: "127.0.0.1:\($0)") }
            let zk = mine.map(\.connectString).joined(separator: ",")
            let args = ["--id", "n\(i)", "--host", host, "--port", "\(port)", "--data-dir", dir.path, "--zookeeper", zk, "--cluster", Self.cluster,
                        "--expected-members", "\(size - later)", "--chains", "\(chains)", "--formation-timeout-ms", "15000", "--session-timeout-ms", "\(sessionTimeoutMs)",
                        "--heartbeat-interval-ms", "250", "--heartbeat-timeout-ms", "1500", "--log-level", "info"]
            let log = dir.appendingPathComponent("server.log")
            var environment = ProcessInfo.processInfo.environment
            if let diskFaultLibrary {
                environment["LD_PRELOAD"] = diskFaultLibrary.path
                environment["DISKFAULT_PREFIX"] = dir.appendingPathComponent("chainkv").path
                environment["DISKFAULT_CONTROL"] = controls[i - 1].path
            }
            servers.append(Child(name: "n\(i)") {
                let p = Process()
                p.executableURL = binDir.appendingPathComponent("chainkv-server")
                p.arguments = args
                p.environment = environment
                let h = logFile(log)
                p.standardOutput = h
                p.standardError = h
                return p
            })
            ports.append(port)
            dirs.append(dir)
            proxies.append(mine)
        }
        self.servers = servers
        self.ports = ports
        self.dataDirs = dirs
        self.proxies = proxies
    }

    var addresses: [String] { zip(hosts, ports).map { "\($0):\($1)" } }

    /// Index of the server named `id` (n1, n2, ...).
    func index(of id: String) -> Int? { servers.firstIndex { $0.name == id } }

    func start() throws { for (i, s) in servers.enumerated() where !reserved.contains(i) { try s.start() } }

    /// Starts reserved server `i`: it joins the running cluster.
    func join(_ i: Int) throws {
        reserved.remove(i)
        try servers[i].start()
    }

    /// Servers started so far.
    var active: Int { servers.count - reserved.count }

    /// Switches server i's disk fault (a mode of scripts/diskfault.c, e.g. "eio-fsync"; nil: off).
    func setDiskFault(_ i: Int, _ mode: String?) {
        if let mode {
            try? mode.write(to: controls[i], atomically: true, encoding: .utf8)
        } else {
            try? FileManager.default.removeItem(at: controls[i])
        }
    }

    func partition(_ i: Int) { for p in proxies[i] { p.cutConnections() } }
    func heal(_ i: Int) { for p in proxies[i] { p.restore() } }

    /// Restarts servers that exited on their own (a server exits when its session expires).
    func supervise() {
        for (i, s) in servers.enumerated() where !s.isRunning && !s.heldDown && !reserved.contains(i) { try? s.start() }
    }

    func stop() {
        for i in servers.indices { setDiskFault(i, nil) }
        for s in servers { s.stop() }
        for group in proxies { for p in group { p.stop() } }
    }

    /// What each running server says about itself (nil: no answer within a second).
    func statuses() async -> [NodeStatus?] {
        await withTaskGroup(of: (Int, NodeStatus?).self) { group in
            for (i, (host, port)) in zip(hosts, ports).enumerated() {
                group.addTask {
                    guard let c = try? await Connection.connect(host: host, port: port, group: MultiThreadedEventLoopGroup.singleton,
                                                                timeout: .milliseconds(500)) else { return (i, nil) }
                    defer { c.close() }
                    guard case .statusReply(let s)? = try? await c.request(.status, timeout: .seconds(1)) else { return (i, nil) }
                    return (i, s)
                }
            }
            var out = [NodeStatus?](repeating: nil, count: hosts.count)
            for await (i, s) in group { out[i] = s }
            return out
        }
    }

    /// Every chain's members, head first, as the servers that answer know them (for each chain,
    /// the answer of the highest epoch); empty if none answers within a second.
    func chainMembers() async -> [String: ChainInfo] {
        await withTaskGroup(of: ShardMap?.self) { group in
            for (host, port) in zip(hosts, ports) {
                group.addTask {
                    guard let c = try? await Connection.connect(host: host, port: port, group: MultiThreadedEventLoopGroup.singleton,
                                                                timeout: .milliseconds(500)) else { return nil }
                    defer { c.close() }
                    guard case .slots(let map)? = try? await c.request(.getSlots, timeout: .seconds(1)) else { return nil }
                    return map
                }
            }
            var chains: [String: ChainInfo] = [:]
            for await map in group {
                for shard in map?.chains ?? [] where shard.chain.epoch >= (chains[shard.id]?.epoch ?? 0) && !shard.chain.members.isEmpty {
                    chains[shard.id] = shard.chain
                }
            }
            return chains
        }
    }
}

import ChainKV
import ChainTestSupport
import ChainWire
import Foundation
import NIOPosix

/// Five chainkv servers. Each reaches ZooKeeper only through its own proxies (one per ZooKeeper
/// server), so the nemesis can cut one server off from ZooKeeper while it keeps running; with the
/// disk-fault shim (scripts/diskfault.c), each preloads it, switched by a control file of its own.
final class Fleet: @unchecked Sendable {
    let servers: [Child]
    let ports: [Int]
    let dataDirs: [URL]
    private let proxies: [[TCPProxy]]
    let sessionTimeoutMs = 3000

    /// Chains the keys are sharded over (1: one chain of every server), of `replicas` servers.
    let chains: Int
    var replicas: Int { chains == 1 ? servers.count : 3 }

    /// Servers not started yet (the sixth of a growth run until it joins): never restarted.
    private(set) var reserved: Set<Int>

    /// Whether every server preloads the disk-fault shim; `controls[i]` is server i's control file.
    let diskFaults: Bool
    private let controls: [URL]

    /// - Parameter later: how many of the `size` servers start only when `join` is called; the
    ///   cluster forms from the others (`--expected-members`).
    init(base: URL, binDir: URL, ensemble: Ensemble, size: Int = 5, chains: Int = 1, later: Int = 0,
         diskFaultLibrary: URL? = nil) throws {
        self.chains = chains
        let controls = (1...size).map { base.appendingPathComponent("n\($0).diskfault") }
        diskFaults = diskFaultLibrary != nil
        self.controls = controls
        reserved = Set((size - later)..<size)
        var servers: [Child] = [], ports: [Int] = [], dirs: [URL] = [], proxies: [[TCPProxy]] = []
        for i in 1...size {
            let dir = base.appendingPathComponent("n\(i)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let port = LoopbackPorts.free()
            let mine = try ensemble.clientPorts.map { try TCPProxy(forwardingTo: "127.0.0.1:\($0)") }
            let zk = mine.map(\.connectString).joined(separator: ",")
            let args = ["--id", "n\(i)", "--port", "\(port)", "--data-dir", dir.path, "--zookeeper", zk, "--cluster", "torture",
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

    var addresses: [String] { ports.map { "127.0.0.1:\($0)" } }

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
            for (i, address) in addresses.enumerated() {
                group.addTask {
                    let port = Int(address.split(separator: ":")[1])!
                    guard let c = try? await Connection.connect(host: "127.0.0.1", port: port, group: MultiThreadedEventLoopGroup.singleton,
                                                                timeout: .milliseconds(500)) else { return (i, nil) }
                    defer { c.close() }
                    guard case .statusReply(let s)? = try? await c.request(.status, timeout: .seconds(1)) else { return (i, nil) }
                    return (i, s)
                }
            }
            var out = [NodeStatus?](repeating: nil, count: addresses.count)
            for await (i, s) in group { out[i] = s }
            return out
        }
    }
}

import ChainCoordination
import Foundation

/// One generation of a chain for the failover benchmark: servers n1...n<size> of a cluster name
/// of their own, with fresh data folders, started one after the other in a chosen order so that a
/// wanted server is the first leader.
final class BenchFailoverCluster: Sendable {
    let name: String
    let paths: ZnodePaths
    let folder: URL
    let servers: [BenchFailoverServer]

    struct Setup: Sendable {
        var binary: URL
        /// Folder with n1.json, n2.json, ... (a server whose file is missing uses n1.json).
        var nodeConfigs: URL
        var zookeeper: String
        var portBase: Int
    }

    init(size: Int, name: String, folder: URL, setup: Setup) throws {
        self.name = name
        paths = try ZnodePaths(cluster: name)
        self.folder = folder
        servers = (1...size).map { i in
            var config = setup.nodeConfigs.appendingPathComponent("n\(i).json")
            if !FileManager.default.fileExists(atPath: config.path) { config = setup.nodeConfigs.appendingPathComponent("n1.json") }
            return BenchFailoverServer(id: "n\(i)", port: setup.portBase + i, dataDir: folder.appendingPathComponent("n\(i)"),
                                       binary: setup.binary, config: config, zookeeper: setup.zookeeper, cluster: name,
                                       expectedMembers: size)
        }
    }

    var size: Int { servers.count }
    var addresses: [String] { servers.map(\.address) }

    func server(_ id: String) -> BenchFailoverServer? { servers.first { $0.id == id } }

    /// Starts the servers in `order`, each once the one before stands in the election (so the
    /// election order is the start order), then waits until the chain is whole.
    func start(order: [String], probe: BenchFailoverProbe, timeout: Double) async throws -> BenchFailoverView {
        for (i, id) in order.enumerated() {
            guard let server = server(id) else { throw BenchError("no server \(id) in a chain of \(size)") }
            try await server.start()
            let standing = await BenchFailoverWait.untilTrue(timeout: timeout, every: 0.05) {
                guard server.isRunning else { return false }
                return await probe.election(paths)?.count == i + 1
            }
            guard standing else {
                throw BenchError("\(id) of \(name) did not join the election within \(Int(timeout)) s"
                    + (server.isRunning ? "" : " (it exited)") + "; its log ends:\n" + server.logTail())
            }
        }
        guard let view = await waitWhole(probe: probe, timeout: timeout) else {
            let last = await probe.view(paths, servers: servers)
            throw BenchError("the chain \(name) did not form within \(Int(timeout)) s: \(last?.description ?? "ZooKeeper unreadable")")
        }
        return view
    }

    /// Waits until the chain has every server, none syncing, all agreeing; nil on timeout.
    func waitWhole(probe: BenchFailoverProbe, timeout: Double) async -> BenchFailoverView? {
        await BenchFailoverWait.until(timeout: timeout, every: 0.1) {
            guard let view = await probe.view(paths, servers: servers), view.isWhole(size: size) else { return nil }
            return view
        }
    }

    /// Kills every server (they are throwaway: the next generation has a new name and new data).
    func stop() async {
        await withTaskGroup(of: Void.self) { group in
            for s in servers { group.addTask { await s.kill() } }
        }
    }

    /// Deletes the SQLite files (logs stay).
    func removeData() {
        for s in servers {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: s.dataDir.path)) ?? []
            for f in files where f.hasPrefix("chainkv.sqlite") || f.hasSuffix(".sqlite") || f.contains(".sqlite-") {
                try? FileManager.default.removeItem(at: s.dataDir.appendingPathComponent(f))
            }
        }
    }
}

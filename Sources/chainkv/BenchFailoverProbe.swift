import ChainCoordination
import ChainKV
import ChainWire
import Foundation

/// Reads a chainkv cluster's state for the failover benchmark: the chain configuration and the
/// election from ZooKeeper (one session for the whole run), and each server's own status.
final class BenchFailoverProbe: Sendable {
    let zk: ZooKeeperClient

    private init(zk: ZooKeeperClient) { self.zk = zk }

    static func connect(_ connectString: String, timeout: Double = 30) async throws -> BenchFailoverProbe {
        let zk = try ZooKeeperClient(connectString: connectString, sessionTimeout: .seconds(30))
        do {
            try await zk.waitConnected(timeout: .seconds(timeout))
        } catch {
            await zk.close()
            throw error
        }
        return BenchFailoverProbe(zk: zk)
    }

    func close() async { await zk.close() }

    /// The chain configuration; nil when it cannot be read (no chain yet, or ZooKeeper unreachable).
    func chain(_ paths: ZnodePaths) async -> ChainConfig? {
        guard let (data, _) = try? await zk.getData(paths.chain) else { return nil }
        return try? ChainConfig.decode(data)
    }

    /// Node ids of the election candidates, leader (lowest sequence) first; nil when unreadable.
    func election(_ paths: ZnodePaths) async -> [String]? {
        let names: [String]
        do {
            names = try await zk.children(paths.election)
        } catch ZooKeeperError.noNode {
            return []
        } catch {
            return nil
        }
        let prefix = ZnodePaths.electionNodePrefix
        let ordered = names.compactMap { name -> (Int64, String)? in
            guard name.hasPrefix(prefix), let seq = Int64(name.dropFirst(prefix.count)) else { return nil }
            return (seq, name)
        }.sorted { $0.0 < $1.0 }
        var ids: [String] = []
        for (_, name) in ordered {
            // A candidate that left between the listing and the read is skipped.
            if let (data, _) = try? await zk.getData("\(paths.election)/\(name)") {
                ids.append(String(decoding: data, as: UTF8.self))
            }
        }
        return ids
    }

    /// Everything at once; nil when ZooKeeper could not be read.
    func view(_ paths: ZnodePaths, servers: [BenchFailoverServer]) async -> BenchFailoverView? {
        async let statuses = Self.statuses(servers)
        guard let election = await election(paths) else { return nil }
        let config = await chain(paths)
        return BenchFailoverView(epoch: config?.epoch ?? 0, chain: config?.members ?? [], syncing: config?.syncing ?? [],
                                 election: election, statuses: await statuses)
    }

    /// Each running server's status, asked in parallel (a paused server costs its 2 s timeout).
    static func statuses(_ servers: [BenchFailoverServer]) async -> [String: NodeStatus] {
        await withTaskGroup(of: (String, NodeStatus?).self) { group in
            for s in servers where s.isRunning {
                group.addTask { (s.id, await Status.ask(s.address, security: ConnectionSecurity())) }
            }
            var out: [String: NodeStatus] = [:]
            for await (id, status) in group { if let status { out[id] = status } }
            return out
        }
    }
}

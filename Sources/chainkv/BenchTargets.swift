import ChainCoordination
import ChainKV
import Foundation

/// What the bench measures: chainkv through ChainKVClient, or ZooKeeper through its C client.
enum BenchTargetKind: String, Codable, Sendable, CaseIterable {
    case chainkv
    case zookeeper
}

/// One closed-loop client: its own connection (chainkv) or session (ZooKeeper). Several loops may
/// use one session at once (`--pipeline`).
protocol BenchSession: Sendable {
    /// True when the key was found.
    func get(_ index: Int) async throws -> Bool
    func put(_ index: Int, _ value: [UInt8]) async throws
    /// The preload's write: ZooKeeper has to create the znode first.
    func load(_ index: Int, _ value: [UInt8]) async throws
    func close() async
    /// Where the session's loops run: the client's event loop for chainkv (no thread switch per
    /// request, as `ChainKVClient.taskExecutor` describes); nil (the cooperative pool) for ZooKeeper,
    /// whose C client calls back on threads of its own.
    var executor: (any TaskExecutor)? { get }
    /// Waits `nanoseconds` before an open loop's next request is due (`--rate`).
    func sleep(nanoseconds: UInt64) async
}

extension BenchSession {
    func sleep(nanoseconds: UInt64) async {
        try? await Task.sleep(nanoseconds: nanoseconds)
    }
}

/// Makes sessions of one target for one key space.
struct BenchTarget: Sendable {
    let kind: BenchTargetKind
    let servers: String
    let timeout: Double
    let zkParent: String

    static func defaultServers(_ kind: BenchTargetKind) -> String {
        switch kind {
        case .chainkv: return ProcessInfo.processInfo.environment["CHAINKV_SERVERS"] ?? "127.0.0.1:7001"
        case .zookeeper: return ProcessInfo.processInfo.environment["CHAINKV_ZK"] ?? "127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183"
        }
    }

    /// Opens a session and makes sure it is connected (so connecting is not measured).
    func open(keys: BenchKeySpace) async throws -> any BenchSession {
        switch kind {
        case .chainkv:
            var options = ChainKVClient.Options()
            options.retryBudget = .milliseconds(Int64(timeout * 1000))
            options.requestTimeout = .milliseconds(Int64(min(timeout, 30) * 1000))
            let list = servers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let client = try ChainKVClient(servers: list, options: options)
            _ = try await client.chain()
            return BenchChainKVSession(client: client, keys: keys)
        case .zookeeper:
            let zk = try ZooKeeperClient(connectString: servers, sessionTimeout: .seconds(30))
            do {
                try await zk.waitConnected(timeout: .seconds(max(5, timeout)))
            } catch {
                await zk.close()
                throw error
            }
            return BenchZooKeeperSession(zk: zk, keys: keys, parent: zkParent)
        }
    }

    /// Number of servers behind the target: the servers of its chains, or the hosts in the connect string.
    func nodes() async -> Int {
        switch kind {
        case .chainkv:
            let list = servers.split(separator: ",").map(String.init)
            guard let client = try? ChainKVClient(servers: list) else { return 0 }
            // Every server of every chain (one chain unsharded).
            let map = try? await client.shards()
            await client.shutdown()
            return Set((map?.chains ?? []).flatMap { $0.chain.members.map(\.id) }).count
        case .zookeeper:
            return servers.split(separator: ",").count
        }
    }

    /// ZooKeeper: the parent znode must exist before the preload creates its children.
    func prepare() async throws {
        guard kind == .zookeeper else { return }
        let zk = try ZooKeeperClient(connectString: servers, sessionTimeout: .seconds(30))
        defer { Task { await zk.close() } }
        try await zk.waitConnected(timeout: .seconds(max(5, timeout)))
        try await zk.ensurePath(zkParent)
    }
}

struct BenchChainKVSession: BenchSession {
    let client: ChainKVClient
    let keys: BenchKeySpace
    var executor: (any TaskExecutor)? { client.taskExecutor }

    func get(_ index: Int) async throws -> Bool {
        try await client.get(keys.key(index)) != nil
    }

    func put(_ index: Int, _ value: [UInt8]) async throws {
        try await client.put(keys.key(index), value)
    }

    func load(_ index: Int, _ value: [UInt8]) async throws {
        try await client.put(keys.key(index), value)
    }

    func close() async {
        await client.shutdown()
    }

    /// On the client's event loop, where the session's loops run: no thread hop per request.
    func sleep(nanoseconds: UInt64) async {
        await client.sleepOnLoop(nanoseconds: nanoseconds)
    }
}

struct BenchZooKeeperSession: BenchSession {
    let zk: ZooKeeperClient
    let keys: BenchKeySpace
    let parent: String
    var executor: (any TaskExecutor)? { nil }

    /// Made once per key space when `BenchRun` asked for it (`BenchKeySpace.withZnodePaths`).
    private func path(_ index: Int) -> String {
        keys.znodePath(index, parent: parent)
    }

    func get(_ index: Int) async throws -> Bool {
        do {
            _ = try await zk.getData(path(index))
            return true
        } catch ZooKeeperError.noNode {
            return false
        }
    }

    func put(_ index: Int, _ value: [UInt8]) async throws {
        try await zk.setData(path(index), data: value)
    }

    func load(_ index: Int, _ value: [UInt8]) async throws {
        let p = path(index)
        do {
            try await zk.create(p, data: value)
        } catch ZooKeeperError.nodeExists {
            try await zk.setData(p, data: value)
        }
    }

    func close() async {
        await zk.close()
    }
}

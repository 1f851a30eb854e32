import ChainCore
import ChainKV
import ChainStorage
import ChainWire
import Foundation
import NIOConcurrencyHelpers
import XCTest

/// Growth (issue 16): a sixth server joins a cluster of five servers (five chains of three)
/// under write load; it heads a new chain, which gets its share of the slots from the others.
final class ShardGrowthTests: XCTestCase {
    /// What the background writer saw: each key's last acknowledged value, and its failures.
    final class WriterLog: @unchecked Sendable {
        let lock = NIOLock()
        var acked: [String: [UInt8]] = [:]
        var failures: [String] = []
        var writes = 0
    }

    /// Eight writers that keep overwriting 400 keys until `stop` is set.
    func startWriters(_ client: ChainKVClient) -> (WriterLog, NIOLockedValueBox<Bool>, Task<Void, Never>) {
        let log = WriterLog()
        let stop = NIOLockedValueBox(false)
        let writer = Task {
            await withTaskGroup(of: Void.self) { group in
                for w in 0..<8 {
                    group.addTask {
                        var n = 0
                        while !stop.withLockedValue({ $0 }) {
                            let key = "load-\(w)-\(n % 50)", value = Array("v\(n)".utf8)
                            n += 1
                            do {
                                _ = try await client.put(key, value)
                                log.lock.withLock { log.acked[key] = value; log.writes += 1 }
                            } catch {
                                log.lock.withLock { log.failures.append("\(key): \(error)") }
                            }
                        }
                    }
                }
            }
        }
        return (log, stop, writer)
    }

    func testASixthServerHeadsANewChainAndGetsItsShareOfTheSlotsUnderWriteLoad() throws {
        let cluster = try ClusterFixture(size: 5, chains: 0)
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        var expected = try writePairs(client, prefix: "before", count: 3000)
        // Versions from before the move, for a compare-and-set after it.
        let sample = Array(expected.keys.sorted().prefix(600))
        let held = try blockingTest {
            var held: [String: UInt64] = [:]
            for key in sample { held[key] = try await client.getVersioned(key)?.version }
            return held
        }

        let (log, stop, writer) = startWriters(client)
        try cluster.addServer()
        let deadline = Date().addingTimeInterval(120)
        var map = try cluster.shards()
        let share = SlotMap.even(chains: (0..<6).map(ClusterLeader.chainID)).counts
        let everyServerHoldsThree = Dictionary(uniqueKeysWithValues: (1...6).map { ("n\($0)", 3) })
        func replicas(_ map: ShardMap) -> [String: Int] {
            map.chains.flatMap { $0.chain.members.map(\.id) }.reduce(into: [:]) { $0[$1, default: 0] += 1 }
        }
        while Date() < deadline {
            map = try cluster.shards()
            let owned = Dictionary(uniqueKeysWithValues: map.chains.map { ($0.id, $0.slots.reduce(0) { $0 + $1.count }) })
            if owned == share, replicas(map) == everyServerHoldsThree { break }
            usleep(200_000)
        }
        stop.withLockedValue { $0 = true }
        _ = try blockingTest { await writer.value }

        let c5 = try XCTUnwrap(map.chains.first { $0.id == "c5" }, "a sixth chain; chains: \(map.chains.map(\.id)); logs in \(cluster.base.path)")
        XCTAssertEqual(c5.chain.head?.id, "n6", "headed by the new server")
        XCTAssertEqual(c5.chain.members.count, 3)
        XCTAssertEqual(Set(map.chains.compactMap { $0.chain.head?.id }), Set((1...6).map { "n\($0)" }), "each server heads one chain")
        XCTAssertEqual(map.chains.reduce(0) { $0 + $1.slots.reduce(0) { $0 + $1.count } }, SlotMap.slotCount)
        let owned = Dictionary(uniqueKeysWithValues: map.chains.map { ($0.id, $0.slots.reduce(0) { $0 + $1.count }) })
        XCTAssertEqual(owned, share, "every chain owns its even share of the slots")
        XCTAssertEqual(replicas(map), everyServerHoldsThree, "replicas moved to the new server until every server holds three")

        let (acked, failures, writes) = log.lock.withLock { (log.acked, log.failures, log.writes) }
        XCTAssertEqual(failures, [], "the client rides out every move")
        XCTAssertGreaterThan(writes, 500, "writes went on while the slots moved")
        expected.merge(acked) { $1 }
        try assertReadBack(client, expected, "after growth")

        // Every replica of every chain (the new server's by import and by state transfer) holds
        // exactly that chain's keys once the donors dropped the rows they gave away; a server a
        // replica moved off deleted its file.
        let slotMap = try XCTUnwrap(map.slotMap)
        XCTAssertGreaterThan(expected.keys.filter { slotMap.chain(of: $0) == "c5" }.count, 300)
        for shard in map.chains {
            let mine = Set(expected.keys.filter { slotMap.chain(of: $0) == shard.id })
            for member in shard.chain.members {
                let i = Int(member.id.dropFirst())! - 1
                let store = try Store(path: cluster.dbPath(i, chain: shard.id))
                let keys = Set(try store.allRows(limit: 100_000).map(\.key))
                store.close()
                XCTAssertTrue(keys.isSuperset(of: mine), "\(member.id)'s replica of \(shard.id) holds every key of it")
            }
        }
        let members = Dictionary(uniqueKeysWithValues: map.chains.map { ($0.id, Set($0.chain.members.map(\.id))) })
        for (i, node) in cluster.nodes.enumerated() {
            for id in members.keys.sorted() where !members[id]!.contains(node.id) {
                XCTAssertFalse(FileManager.default.fileExists(atPath: cluster.dbPath(i, chain: id)), "\(node.id) holds no file of \(id)")
            }
        }
        // A version held from before a key's slot moved matches nothing after it (no ABA): the
        // new chain's versions name it; a compare-and-set on the current version applies.
        let moved = held.keys.filter { slotMap.chain(of: $0) == "c5" }.sorted()
        XCTAssertGreaterThan(moved.count, 30)
        for key in moved.prefix(20) {
            let now = try XCTUnwrap(try blockingTest { try await client.getVersioned(key) })
            XCTAssertEqual(now.version & 0xFF, 5, "\(key)'s version names chain c5")
            XCTAssertNotEqual(now.version, held[key])
            XCTAssertEqual(try blockingTest { try await client.put(key, [9], ifVersion: held[key]!) }, .conditionFailed(current: now.version))
            guard case .applied = try blockingTest({ try await client.put(key, [7], ifVersion: now.version) }) else {
                return XCTFail("a compare-and-set on the current version applies")
            }
            expected[key] = [7]
        }
        let dropped = Date().addingTimeInterval(20)
        var leftovers: [String] = []
        repeat {
            leftovers = []
            for shard in map.chains {
                for member in shard.chain.members {
                    let store = try Store(path: cluster.dbPath(Int(member.id.dropFirst())! - 1, chain: shard.id))
                    leftovers += try store.allRows(limit: 100_000).map(\.key).filter { slotMap.chain(of: $0) != shard.id }
                    store.close()
                }
            }
            if leftovers.isEmpty { break }
            usleep(200_000)
        } while Date() < dropped
        XCTAssertEqual(leftovers, [], "every donor dropped the rows of the slots it gave away")

        let pauses = cluster.nodes.indices.flatMap { i in
            cluster.log(i).split(separator: "\n").filter { $0.contains("slot move done") }.compactMap { line -> Int? in
                guard let r = line.range(of: "pauseMs=") else { return nil }
                return Int(line[r.upperBound...].prefix { $0.isNumber })
            }
        }.sorted()
        XCTAssertFalse(pauses.isEmpty, "the leader logs each move's pause")
        print("slot moves: \(pauses.count), pause ms median \(pauses.isEmpty ? 0 : pauses[pauses.count / 2]), max \(pauses.last ?? 0); "
              + "writes during growth: \(writes)")
    }

    /// With a fixed chain count a new server gets replicas of existing chains (no chain, no
    /// slots of its own), under write load, and every key stays.
    func testASixthServerGetsReplicasWhenTheChainCountIsFixed() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        var expected = try writePairs(client, prefix: "before", count: 2000)
        let (log, stop, writer) = startWriters(client)
        try cluster.addServer()
        let deadline = Date().addingTimeInterval(120)
        var load: [String: Int] = [:]
        var map = try cluster.shards()
        while Date() < deadline {
            map = try cluster.shards()
            load = [:]
            for chain in map.chains { for m in chain.chain.members { load[m.id, default: 0] += 1 } }
            if load["n6"] == 2, map.chains.allSatisfy({ $0.chain.members.count == 3 }) { break }
            usleep(200_000)
        }
        stop.withLockedValue { $0 = true }
        _ = try blockingTest { await writer.value }
        XCTAssertEqual(load["n6"], 2, "the new server holds 2 of the 15 replicas: \(load)")
        XCTAssertLessThanOrEqual(load.values.max()! - load.values.min()!, 1, "\(load)")
        XCTAssertEqual(map.chains.count, 5, "no new chain")
        XCTAssertFalse(map.chains.contains { $0.chain.head?.id == "n6" }, "heads stay")
        let (acked, failures, writes) = log.lock.withLock { (log.acked, log.failures, log.writes) }
        XCTAssertEqual(failures, [])
        XCTAssertGreaterThan(writes, 100)
        expected.merge(acked) { $1 }
        try assertReadBack(client, expected, "after the sixth server joined")
    }

    func testADecommissionedServerLeavesEveryChainAndEveryKeyStays() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        var expected = try writePairs(client, prefix: "before", count: 2000)
        let (log, stop, writer) = startWriters(client)
        XCTAssertEqual(try blockingTest { try await client.decommission("n5") }, 1)
        let deadline = Date().addingTimeInterval(120)
        var map = try cluster.shards()
        while Date() < deadline {
            map = try cluster.shards()
            let members = map.chains.map { $0.chain.members.map(\.id) }
            if members.allSatisfy({ $0.count == 3 && !$0.contains("n5") }) { break }
            usleep(200_000)
        }
        stop.withLockedValue { $0 = true }
        _ = try blockingTest { await writer.value }
        let members = map.chains.map { $0.chain.members.map(\.id) }
        XCTAssertTrue(members.allSatisfy { $0.count == 3 && !$0.contains("n5") }, "every chain left n5: \(members)")
        XCTAssertEqual(map.chains.count, 5, "the chains stay, and so do their slots")
        XCTAssertEqual(Set(map.chains.compactMap { $0.chain.head?.id }).count, 4, "n5's chain got another head")
        let (acked, failures, writes) = log.lock.withLock { (log.acked, log.failures, log.writes) }
        XCTAssertEqual(failures, [])
        XCTAssertGreaterThan(writes, 200)
        expected.merge(acked) { $1 }
        try assertReadBack(client, expected, "after decommissioning n5")
        let gone = Date().addingTimeInterval(20)
        var files: [String] = []
        repeat {
            files = ((try? FileManager.default.contentsOfDirectory(atPath: cluster.nodes[4].dataDir.path)) ?? [])
                .filter { $0.hasPrefix("chainkv-") && $0.hasSuffix(".sqlite") }
            if files.isEmpty { break }
            usleep(200_000)
        } while Date() < gone
        XCTAssertEqual(files, [], "n5 deleted the file of every chain it left")
        XCTAssertEqual(try blockingTest { try await client.decommission("n5", cancel: true) }, 0, "cancelled")
    }
}

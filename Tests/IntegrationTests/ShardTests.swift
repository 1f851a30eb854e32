import ChainCore
import ChainKV
import ChainStorage
import ChainTransport
import ChainWire
import Foundation
import NIOPosix
import XCTest

/// Keys sharded over several chains (issue 16): 5 real servers, 5 chains of 3, a real ZooKeeper.
final class ShardTests: XCTestCase {
    /// Chain id → members, head first, as the servers report them.
    func chainMembers(_ cluster: ClusterFixture) throws -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: try cluster.shards().chains.map { ($0.id, $0.chain.members.map(\.id)) })
    }

    func testFiveChainsOfThreeEachHeadedByAnotherServer() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        let map = try cluster.shards()
        XCTAssertEqual(map.chains.map(\.id), ["c0", "c1", "c2", "c3", "c4"])
        XCTAssertEqual(Set(map.chains.compactMap { $0.chain.head?.id }), ["n1", "n2", "n3", "n4", "n5"], "each server heads one chain")
        XCTAssertTrue(map.chains.allSatisfy { $0.chain.members.count == 3 })
        let owned = map.chains.reduce(0) { $0 + $1.slots.reduce(0) { $0 + $1.count } }
        XCTAssertEqual(owned, SlotMap.slotCount, "every slot has one owner")

        let client = try ChainKVClient(servers: [cluster.address(0)], options: cluster.clientOptions)
        defer { client.shutdown() }
        let written = try writePairs(client, prefix: "k", count: 1000)
        try assertReadBack(client, written, "5 chains")

        // Each server's file of each of its chains holds exactly that chain's keys.
        let slotMap = try XCTUnwrap(map.slotMap)
        for shard in map.chains {
            let expected = Set(written.keys.filter { slotMap.chain(of: $0) == shard.id })
            XCTAssertGreaterThan(expected.count, 100, "uniform keys reach chain \(shard.id)")
            for member in shard.chain.members {
                let i = Int(member.id.dropFirst())! - 1
                let store = try Store(path: cluster.dbPath(i, chain: shard.id))
                let keys = Set(try store.allRows(limit: 100_000).map(\.key))
                store.close()
                XCTAssertEqual(keys, expected, "\(member.id)'s replica of \(shard.id)")
            }
        }
    }

    func testAServerRefusesAKeyItsChainsDoNotOwn() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        let map = try cluster.shards()
        let slotMap = try XCTUnwrap(map.slotMap)
        let key = "refused-key"
        let owner = try XCTUnwrap(map.chains.first { $0.id == slotMap.chain(of: key) })
        let outsider = try XCTUnwrap(cluster.nodes.firstIndex { n in !owner.chain.members.contains { $0.id == n.id } })
        let reply = try blockingTest {
            let c = try await Connection.connect(host: "127.0.0.1", port: cluster.nodes[outsider].port,
                                                 group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(2), security: .none)
            defer { c.close() }
            return try await c.request(.put(key: key, value: [1], request: nil), timeout: .seconds(2))
        }
        XCTAssertEqual(reply, .moved(slot: UInt16(SlotMap.slot(of: key)), mapVersion: slotMap.version))
        // The client follows the map to the owner; the outsider never stored the key.
        let client = try ChainKVClient(servers: [cluster.address(outsider)], options: cluster.clientOptions)
        defer { client.shutdown() }
        XCTAssertNil(try blockingTest { try await client.put(key, Array("v".utf8)) })
        XCTAssertEqual(try blockingTest { try await client.get(key) }, Array("v".utf8))
    }

    /// A server is head of one chain, middle of another and tail of a third: its failure repairs
    /// all three, every acknowledged key reads back, and when it returns it rejoins the chains
    /// it was placed in (and no other) by state transfer.
    func testKillingAnyServerRepairsEveryChainItServed() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.shutdown() }
        let before = try chainMembers(cluster)
        var written = try writePairs(client, prefix: "a", count: 1000)
        let victim = 2  // n3
        let served = before.filter { $0.value.contains("n3") }
        XCTAssertEqual(Set(served.values.map { $0.firstIndex(of: "n3")! }), [0, 1, 2], "head, middle and tail")
        cluster.kill(victim)
        try waitFor("every chain of n3 repaired") {
            guard let now = try? chainMembers(cluster) else { return false }
            return served.keys.allSatisfy { now[$0] == before[$0]!.filter { $0 != "n3" } }
                && before.filter { !$0.value.contains("n3") }.allSatisfy { now[$0.key] == $0.value }
        }
        written.merge(try writePairs(client, prefix: "b", count: 1000)) { $1 }
        try assertReadBack(client, written, "after n3 died")

        try cluster.start(victim)
        try waitFor("n3 rejoined its chains", timeout: 60) {
            guard let now = try? chainMembers(cluster) else { return false }
            return served.keys.allSatisfy { now[$0]?.count == 3 && now[$0]?.last == "n3" }
        }
        let now = try chainMembers(cluster)
        let slotMap = try XCTUnwrap(try cluster.shards().slotMap)
        XCTAssertEqual(Set(now.filter { $0.value.contains("n3") }.keys), Set(served.keys), "only the chains n3 was placed in")
        for id in served.keys.sorted() {
            let expected = written.filter { slotMap.chain(of: $0.key) == id }
            let store = try Store(path: cluster.dbPath(victim, chain: id))
            let rows = Dictionary(uniqueKeysWithValues: try store.allRows(limit: 100_000).map { ($0.key, $0.value) })
            store.close()
            XCTAssertTrue(expected.allSatisfy { rows[$0.key] == $0.value }, "n3's replica of \(id) holds every acknowledged write")
        }
        try assertReadBack(client, written, "after n3 rejoined")
    }
}

import ChainCoordination
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
        defer { client.beginShutdown() }
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
        defer { client.beginShutdown() }
        XCTAssertNil(try blockingTest { try await client.put(key, Array("v".utf8)) })
        XCTAssertEqual(try blockingTest { try await client.get(key) }, Array("v".utf8))
    }

    /// A server is head of one chain, middle of another and tail of a third: its failure repairs
    /// all three, every acknowledged key reads back, and when it returns it rejoins the chains
    /// it was placed in (and no other) by state transfer.
    func testKillingAnyServerRepairsEveryChainItServed() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
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
            return served.keys.allSatisfy { now[$0]?.count == 3 && now[$0]?.contains("n3") == true }
        }
        // Every chain n3 rejoined at its tail is put back in placement order (drain, then
        // reorder), one chain at a time: the chain it was placed at the head of gets it back as
        // its head, so every server heads one chain again. (Waiting only for balanced heads and
        // then comparing raced the reorder of a chain n3 is the middle of: CI at 8197661.)
        try waitFor("every chain in its placed order again", timeout: 45) {
            (try? chainMembers(cluster)) == before
        }
        let now = try chainMembers(cluster)
        XCTAssertEqual(Set(now.values.compactMap(\.first)), ["n1", "n2", "n3", "n4", "n5"], "heads balanced again")
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

    /// Durability as R=3 allows it: every server dies; restarting one member of each chain's
    /// last configuration (as ZooKeeper holds it) brings every acknowledged key back.
    func testAfterEveryServerDiedOneMemberOfEachChainBringsEveryKeyBack() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        let acked = try writePairs(client, prefix: "d", count: 1000)
        client.beginShutdown()
        // Every server crashes at once (the leader gets no time to narrow the chains).
        for i in 0..<5 { kill(cluster.pid(i), SIGKILL) }
        for i in 0..<5 { cluster.waitExit(i) }

        let last = try blockingTest { [cluster] in
            let observer = try await Coordinator.connect(to: cluster.zookeeper, cluster: cluster.cluster, nodeID: "observer",
                                                         sessionTimeout: .seconds(4))
            defer { Task { await observer.close() } }
            return try await observer.readShards().mapValues { $0.0 }
        }
        XCTAssertEqual(last.count, 5)
        // Fewest servers covering every chain's last configuration (a synced member of each).
        var restart: Set<String> = []
        for id in last.keys.sorted() where !last[id]!.members.contains(where: restart.contains) {
            restart.insert(try XCTUnwrap(last[id]!.members.first { !last[id]!.syncing.contains($0) }, "\(id) has a synced member"))
        }
        for id in restart.sorted() { try cluster.start(Int(id.dropFirst())! - 1) }
        let after = try ChainKVClient(servers: restart.sorted().map { cluster.address(Int($0.dropFirst())! - 1) }, options: cluster.clientOptions)
        defer { after.beginShutdown() }
        try waitFor("every chain restarted", timeout: 60) {
            guard let map = try? cluster.shards() else { return false }
            return map.chains.count == 5 && map.chains.allSatisfy { $0.chain.head.map { restart.contains($0.id) } ?? false }
        }
        try assertReadBack(after, acked, "after restarting \(restart.sorted())")
    }

    /// The paper's multiple-clients test over five chains: four clients write at once, each
    /// reads back what every client wrote.
    func testMultipleClientsOverFiveChains() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        defer { cluster.stop() }
        let clients = try (0..<4).map { i in try ChainKVClient(servers: [cluster.address(i)], options: cluster.clientOptions) }
        defer { for c in clients { c.beginShutdown() } }
        let written = try blockingTest {
            try await withThrowingTaskGroup(of: [String: [UInt8]].self) { group in
                for (i, client) in clients.enumerated() {
                    // Half of them run on their client's event loop (`taskExecutor`), where their
                    // requests to five chains' heads are sent and resumed.
                    group.addTask(executorPreference: i.isMultiple(of: 2) ? client.taskExecutor : nil) {
                        var mine: [String: [UInt8]] = [:]
                        for j in 0..<250 {
                            let key = "c\(i)-\(j)", value = Array("v\(i)-\(j)".utf8)
                            try await client.put(key, value)
                            mine[key] = value
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [:]) { $0.merge($1) { $1 } }
            }
        }
        XCTAssertEqual(written.count, 1000)
        for client in clients { try assertReadBack(client, written, "every client's writes") }
        for client in clients {
            XCTAssertTrue(client.connectionsShareTheExecutorsLoop, "a client's connections run on its taskExecutor's loop")
        }
    }

    /// A chain whose every replica failed is unavailable (its keys fail, none is served from a
    /// stale copy) while the other chains serve on; the member that died last brings it back.
    func testAChainWhoseReplicasAllFailedIsUnavailableNotStale() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        defer { cluster.stop() }
        let before = try chainMembers(cluster)
        let lost = try XCTUnwrap(before.first { $0.value == ["n1", "n2", "n3"] }?.key, "a chain of n1, n2, n3: \(before)")
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        let acked = try writePairs(client, prefix: "u", count: 500)
        client.beginShutdown()
        let slotMap = try XCTUnwrap(try cluster.shards().slotMap)
        // n1 and n2 first, and n3 only once the leader has dropped both: the leader notices
        // deaths in its own order (a CI run under load dropped n3 before n2 when all three died
        // at once, and then only n2 could restart the chain).
        cluster.kill(0)
        cluster.kill(1)
        try waitFor("\(lost) down to n3") { (try? chainMembers(cluster))?[lost] == ["n3"] }
        cluster.kill(2)
        var options = cluster.clientOptions
        options.retryBudget = .seconds(2)
        let survivor = try ChainKVClient(servers: [cluster.address(3), cluster.address(4)], options: options)
        defer { survivor.beginShutdown() }
        try waitFor("the other chains repaired") {
            guard let map = try? cluster.shards() else { return false }
            return map.chains.filter { $0.id != lost }.allSatisfy { !$0.chain.members.contains { ["n1", "n2", "n3"].contains($0.id) } }
        }
        let lostKeys = acked.filter { slotMap.chain(of: $0.key) == lost }
        let otherKeys = acked.filter { slotMap.chain(of: $0.key) != lost }
        try assertReadBack(survivor, otherKeys, "chains with a live member")
        for key in lostKeys.keys.sorted().prefix(3) {
            XCTAssertThrowsError(try blockingTest { try await survivor.get(key) }, "\(key) of the dead chain \(lost) must not be served")
        }
        // n3 died last: the chain's last configuration is n3 alone (n1 and n2 were dropped as
        // they died, so their copies may be stale and they cannot restart it).
        try cluster.start(2)
        try waitFor("\(lost) restarted by n3", timeout: 30) {
            (try? chainMembers(cluster))?[lost]?.first == "n3"
        }
        try assertReadBack(survivor, acked, "after n3 came back")
    }
}

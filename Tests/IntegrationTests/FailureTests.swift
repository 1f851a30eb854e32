import ChainCoordination
import ChainKV
import ChainWire
import Foundation
import XCTest

/// Whether `body` returned without throwing (`try?` would flatten a nil result into a failure).
func succeeds<T>(_ body: () async throws -> T) async -> Bool {
    do { _ = try await body(); return true } catch { return false }
}

/// The design paper's failure tests: real servers killed with SIGKILL, a real ZooKeeper.
final class FailureTests: XCTestCase {
    func members(_ cluster: ClusterFixture) -> [String] {
        (try? cluster.chainInfo().members.map(\.id)) ?? []
    }

    func index(of id: String) -> Int { Int(id.dropFirst())! - 1 }

    // MARK: Single client with server failure

    func testKillHeadThenMiddleThenTailLosesNothing() throws {
        let cluster = try ClusterFixture(size: 5)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        var acked: [String: [UInt8]] = [:]
        for position in ["head", "middle", "tail"] {
            acked.merge(try writePairs(client, prefix: position, count: 1000)) { $1 }
            let chain = members(cluster)
            let victim = position == "head" ? chain.first! : position == "tail" ? chain.last! : chain[chain.count / 2]
            cluster.kill(index(of: victim))
            try waitFor("the chain to drop \(victim)") { let m = members(cluster); return !m.isEmpty && !m.contains(victim) }
            try assertReadBack(client, acked, "after killing the \(position) \(victim)")
        }
        XCTAssertEqual(members(cluster).count, 2)
    }

    // MARK: Availability

    func testAvailabilityDownToOneServer() throws {
        let cluster = try ClusterFixture(size: 5)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        var acked: [String: [UInt8]] = [:]
        for round in 0..<4 {
            acked.merge(try writePairs(client, prefix: "r\(round)", count: 1000)) { $1 }
            let chain = members(cluster)
            // Kill a different position each round: head, tail, middle, head.
            let victim = [chain.first!, chain.last!, chain[chain.count / 2], chain.first!][round]
            cluster.kill(index(of: victim))
            try waitFor("the chain to drop \(victim)") { let m = members(cluster); return m.count == 4 - round && !m.contains(victim) }
        }
        acked.merge(try writePairs(client, prefix: "last", count: 100)) { $1 }
        try assertReadBack(client, acked, "with one server left")
    }

    // MARK: Durability after total failure

    func testTotalFailureRestartsFromLastConfigurationOnly() throws {
        let cluster = try ClusterFixture(size: 5)
        defer { cluster.stop() }
        // n5 is dropped before the writes: its copy is stale.
        cluster.kill(4)
        try waitFor("the chain to drop n5") { members(cluster) == ["n1", "n2", "n3", "n4"] }
        let client = try ChainKVClient(servers: cluster.servers)
        let acked = try writePairs(client, prefix: "d", count: 1000)
        client.beginShutdown()
        // die every server, as the paper's test does (unclean: like a crash).
        let paper = PaperClient()
        for i in 0..<4 { XCTAssertEqual(paper.die(server: cluster.address(i), clean: false), 0, "die n\(i + 1)") }
        for i in 0..<4 { cluster.waitExit(i) }

        // The server dropped earlier comes back first: it must not serve its stale copy.
        try cluster.start(4)
        sleep(3)
        let stale = try ChainKVClient(servers: [cluster.address(4)], options: { var o = ChainKVClient.Options(); o.retryBudget = .seconds(2); return o }())
        XCTAssertThrowsError(try blockingTest { try await stale.get("d-1") }, "n5 alone must not serve")
        stale.beginShutdown()

        // One member of the last configuration restarts the chain; n5 then joins with its data.
        // n4 died last, so it is in the last configuration whatever the leader managed to write
        // while the others died (it drops a dead member within milliseconds).
        try cluster.start(3)
        let after = try ChainKVClient(servers: cluster.servers)
        defer { after.beginShutdown() }
        try waitFor("n4 to restart the chain and n5 to join") { members(cluster) == ["n4", "n5"] }
        try assertReadBack(after, acked, "after restarting from n4")
        cluster.stop()
        XCTAssertTrue(try cluster.rows(4) == cluster.rows(3), "n5's SQLite file matches n4's after its state transfer")
    }

    // MARK: Revival under load

    func testRevivedServerRejoinsAsTailUnderWriteLoad() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        var acked = try writePairs(client, prefix: "before", count: 2000)
        cluster.kill(1)
        try waitFor("the chain to drop n2") { members(cluster) == ["n1", "n3"] }
        acked.merge(try writePairs(client, prefix: "gap", count: 500)) { $1 }
        // Restart n2 while writes continue.
        let load = Task.detached { [acked] in
            var mine: [String: [UInt8]] = [:]
            for round in 0..<40 {
                let key = "load-\(round)", value = Array("v\(round)".utf8)
                if await succeeds({ try await client.put(key, value) }) { mine[key] = value }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
            _ = acked
            return mine
        }
        try cluster.start(1)
        try waitFor("n2 to rejoin as tail") { members(cluster) == ["n1", "n3", "n2"] }
        acked.merge(try blockingTest { await load.value }) { $1 }
        acked.merge(try writePairs(client, prefix: "after", count: 200)) { $1 }
        try assertReadBack(client, acked, "after the revival")
        // The new tail's predecessor reports how long writes waited for n2 to catch up, in the
        // epoch that made n2 the tail again (1: formation, 2: n2 dropped, 3 or later: n2 re-added).
        let rejoin = (cluster.log(0) + cluster.log(2)).split(separator: "\n").last {
            $0.contains("put pause during splice") && $0.contains("successor=n2")
        }
        let epoch = rejoin.flatMap { $0.firstMatch(of: /epoch=(\d+)/) }.flatMap { Int($0.1) } ?? 0
        XCTAssertGreaterThanOrEqual(epoch, 3, "the put pause of the splice is reported in the server log: \(rejoin ?? "none")")
        print("revival: \(rejoin ?? "no put pause line")")
        cluster.stop()
        let reference = try cluster.rows(0)
        XCTAssertEqual(reference.count, acked.count)
        XCTAssertTrue(try cluster.rows(1) == reference, "the revived server's SQLite file matches the head's")
        XCTAssertTrue(try cluster.rows(2) == reference, "the middle's SQLite file matches the head's")
    }

    // MARK: Parallel put and get

    /// One thread writes a new value while another polls; once the new value is seen, a server is
    /// killed and restarted without waiting for the put. The value must be committed on every
    /// member's disk by the time any get returns it, and read back afterwards.
    func testParallelPutAndGetAcrossKillAndRestart() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        for (round, position) in ["head", "middle", "tail"].enumerated() {
            let chain = members(cluster)
            let key = "parallel-\(round)"
            let newValue = Array("new-\(round)".utf8)
            try blockingTest { try await client.put(key, Array("old".utf8)) }
            let put = Task.detached { try await client.put(key, newValue) }
            // Poll until the new value is visible.
            var seen = false
            let deadline = Date().addingTimeInterval(20)
            while !seen && Date() < deadline {
                seen = (try? blockingTest { try await client.get(key) }) == newValue
            }
            XCTAssertTrue(seen, "new value observed (\(position))")
            // A get returned it, so every member of the chain must already hold it on disk.
            for id in chain {
                let rows = try cluster.rows(index(of: id))
                XCTAssertEqual(rows.first { $0.key == key }?.value, newValue, "\(id) had the value on disk when a get returned it (chain \(chain), \(rows.count) rows)")
            }
            let victim = position == "head" ? chain.first! : position == "tail" ? chain.last! : chain[1]
            let epoch = try cluster.chainInfo().epoch
            cluster.kill(index(of: victim))
            try cluster.start(index(of: victim))
            _ = try? blockingTest { try await put.value }
            // Dropped (one epoch), then re-added at the tail after its snapshot (another).
            try waitFor("\(victim) to rejoin") {
                guard let info = try? cluster.chainInfo() else { return false }
                return info.epoch >= epoch + 2 && info.members.map(\.id).last == victim && info.members.count == 3
            }
            XCTAssertEqual(try blockingTest { try await client.get(key) }, newValue, "after restarting the \(position)")
        }
    }

    // MARK: Leader failover

    func testLeaderKillDuringWritesLosesNothing() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let observer = try blockingTest { [cluster] in
            try await Coordinator.connect(to: cluster.zookeeper, cluster: cluster.cluster, nodeID: "observer", sessionTimeout: .seconds(4))
        }
        let leader = try XCTUnwrap(try blockingTest { try await observer.leaderID() })
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        let writes = Task.detached { () -> [String: [UInt8]] in
            var acked: [String: [UInt8]] = [:]
            for i in 0..<300 {
                let key = "lk-\(i)", value = Array("v\(i)".utf8)
                if await succeeds({ try await client.put(key, value) }) { acked[key] = value }
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
            return acked
        }
        sleep(1)
        cluster.kill(index(of: leader))
        try waitFor("a new leader") { (try? blockingTest { try await observer.leaderID() }).flatMap { $0 } .map { $0 != leader } ?? false }
        try waitFor("the chain to drop the old leader \(leader)") { let m = members(cluster); return m.count == 2 && !m.contains(leader) }
        let acked = try blockingTest { await writes.value }
        XCTAssertGreaterThan(acked.count, 250, "writes continued after the leader changed")
        try assertReadBack(client, acked, "after the leader was killed")
        // The new leader also repairs: revive the old one and see it rejoin.
        try cluster.start(index(of: leader))
        try waitFor("the old leader to rejoin") { members(cluster).last == leader }
        try blockingTest { await observer.close() }
    }

    // MARK: die

    func testCleanDieRepairsAtOnceAndUncleanDieIsACrash() throws {
        let cluster = try ClusterFixture(size: 4)
        defer { cluster.stop() }
        let paper = PaperClient()
        XCTAssertEqual(paper.`init`(servers: cluster.servers, port: 0), 0)
        defer { _ = paper.shutdown() }
        XCTAssertEqual(paper.put("before", Array("x".utf8)).status, 1)
        let start = Date()
        XCTAssertEqual(paper.die(server: cluster.address(1), clean: true), 0)
        try waitFor("the chain to drop n2") { !members(cluster).contains("n2") }
        let cleanRepair = Date().timeIntervalSince(start)
        // Clean: the session closes, so the leader repairs well before any timeout (4 s session, 1.5 s heartbeats).
        XCTAssertLessThan(cleanRepair, 1.4, "clean die repaired the chain at once")
        cluster.waitExit(1)
        XCTAssertEqual(cluster.exitStatus(1), 0, "clean die exits 0")
        XCTAssertEqual(paper.die(server: cluster.address(3), clean: false), 0)
        cluster.waitExit(3)
        XCTAssertNotEqual(cluster.exitStatus(3), 0, "unclean die exits like a crash")
        try waitFor("the chain to drop n4") { members(cluster) == ["n1", "n3"] }
        XCTAssertEqual(paper.get("before").value, Array("x".utf8))
        XCTAssertEqual(paper.die(server: cluster.address(3), clean: false), -1, "a dead server is unreachable")
    }
}

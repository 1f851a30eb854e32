import ChainKV
import Foundation
import XCTest

/// Watches against real servers: every committed change exactly once and in order, across a head
/// kill and a middle kill; across chains; from the CLI; and "compacted" past the history kept.
final class WatchTests: XCTestCase {
    /// What a watcher received, in order.
    final class Received: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [WatchEvent] = []
        private var failure: Error?
        func append(_ e: WatchEvent) { lock.lock(); events.append(e); lock.unlock() }
        func fail(_ e: Error) { lock.lock(); failure = e; lock.unlock() }
        var all: [WatchEvent] { lock.lock(); defer { lock.unlock() }; return events }
        var error: Error? { lock.lock(); defer { lock.unlock() }; return failure }
    }

    func start(_ stream: WatchStream) -> (Received, Task<Void, Never>) {
        let received = Received()
        let task = Task {
            do { for try await e in stream { received.append(e) } } catch { received.fail(error) }
        }
        return (received, task)
    }

    /// Waits until the watcher has every version in `versions`, or 30 s.
    func waitFor(_ received: Received, versions: Set<UInt64>) {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !versions.isSubset(of: Set(received.all.map(\.version))), received.error == nil { usleep(50_000) }
    }

    /// Puts `count` writes round-robin over ten keys; `during(i)` runs before write i. Returns
    /// the acknowledged writes by version, and the values of writes whose outcome is unknown.
    func writeWhile(_ client: ChainKVClient, count: Int, during: (Int) -> Void) throws -> (acked: [UInt64: (String, String)], unknown: Set<String>) {
        var acked: [UInt64: (String, String)] = [:]
        var unknown = Set<String>()
        for i in 0..<count {
            during(i)
            let key = "w/\(i % 10)", value = "value-\(i)"
            do {
                let result = try blockingTest { try await client.put(key, Array(value.utf8), ifVersion: nil) }
                acked[result.version!] = (key, value)
            } catch ChainKVError.chainFailure {
                unknown.insert(value)
            }
        }
        return (acked, unknown)
    }

    /// Every acknowledged write once, nothing unwritten, nothing twice, each chain in order.
    func assertExact(_ events: [WatchEvent], acked: [UInt64: (String, String)], unknown: Set<String>,
                     file: StaticString = #filePath, line: UInt = #line) {
        var seen = Set<UInt64>()
        var lastPerChain: [UInt64: UInt64] = [:]
        for e in events {
            XCTAssertTrue(seen.insert(e.version).inserted, "version \(e.version) delivered twice", file: file, line: line)
            let chain = e.version & 0xFF, seq = e.version >> 8
            if let last = lastPerChain[chain] { XCTAssertGreaterThan(e.version, last, "out of order in its chain (\(seq))", file: file, line: line) }
            lastPerChain[chain] = e.version
            let value = e.value.map { String(decoding: $0, as: UTF8.self) }
            if let (key, written) = acked[e.version] {
                XCTAssertEqual(e.key, key, file: file, line: line)
                XCTAssertEqual(value, written, file: file, line: line)
            } else {
                XCTAssertTrue(value.map { unknown.contains($0) } ?? false, "\(e.key)=\(value ?? "deleted") at \(e.version) was never written",
                              file: file, line: line)
            }
        }
        for (version, (key, _)) in acked where !seen.contains(version) {
            XCTFail("the acknowledged write of \(key) at version \(version) was not delivered", file: file, line: line)
        }
    }

    func testAWatcherSeesEveryChangeOnceInOrderAcrossAHeadKillAndAMiddleKill() throws {
        let cluster = try ClusterFixture(size: 5)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        let watcher = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { watcher.beginShutdown() }
        let (received, task) = start(try blockingTest { try await watcher.watch(prefix: "w/") })
        defer { task.cancel() }
        let index = { (id: String) in Int(id.dropFirst())! - 1 }
        let firstHead = try XCTUnwrap(cluster.chainInfo().head)
        let (acked, unknown) = try writeWhile(client, count: 600) { i in
            if i == 200, let head = try? cluster.chainInfo().head { cluster.kill(index(head.id)) }
            if i == 400, let members = try? cluster.chainInfo().members, members.count > 2 { cluster.kill(index(members[1].id)) }
        }
        waitFor(received, versions: Set(acked.keys))
        XCTAssertNil(received.error)
        assertExact(received.all, acked: acked, unknown: unknown)
        let now = try cluster.chainInfo()
        XCTAssertNotEqual(now.head?.id, firstHead.id, "the head was killed")
        XCTAssertEqual(now.members.count, 3, "and a middle server after it")
        XCTAssertGreaterThanOrEqual(acked.count, 590, "nearly every write was acknowledged")
    }

    func testAPrefixWatchAcrossFiveChainsAndAResumeFromACursor() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        let (received, task) = start(try blockingTest { try await client.watch(prefix: "w/") })
        let first = try writeWhile(client, count: 100) { _ in }
        _ = try blockingTest { try await client.put("other", [1]) }  // outside the prefix
        waitFor(received, versions: Set(first.acked.keys))
        task.cancel()
        assertExact(received.all, acked: first.acked, unknown: first.unknown)
        XCTAssertGreaterThan(Set(received.all.map { $0.version & 0xFF }).count, 1, "changes came from several chains")
        // Resume from the cursor of the 50th change: the writes after it, and nothing before it.
        let cursor = received.all[49].cursor
        let resumedAt = Set(received.all.prefix(50).map(\.version))
        let parsed = try XCTUnwrap(WatchCursor(cursor.description))
        let second = try writeWhile(client, count: 20) { _ in }
        let (again, task2) = start(try blockingTest { try await client.watch(prefix: "w/", after: parsed) })
        defer { task2.cancel() }
        let expected = Set(first.acked.keys).subtracting(resumedAt).union(second.acked.keys)
        waitFor(again, versions: expected)
        XCTAssertEqual(Set(again.all.map(\.version)), expected, "exactly the changes after the cursor")
    }

    /// A chain added by growth is found by a watch that only watches (no request of its own
    /// meets a `moved`), and its keys' changes are delivered.
    func testAWatchFollowsKeysToAChainAddedByGrowth() throws {
        let cluster = try ClusterFixture(size: 5, chains: 0)
        defer { cluster.stop() }
        let watcher = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { watcher.beginShutdown() }
        let (received, task) = start(try blockingTest { try await watcher.watch(prefix: "g/") })
        defer { task.cancel() }
        try cluster.addServer()
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            let map = try cluster.shards()
            if map.chains.count == 6, map.slotMap?.moving == nil, (map.slotMap?.counts["c5"] ?? 0) > 600 { break }
            usleep(200_000)
        }
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        var acked: [UInt64: (String, String)] = [:]
        for i in 0..<300 {
            let key = "g/\(i)", value = "v\(i)"
            acked[try XCTUnwrap(try blockingTest { try await client.put(key, Array(value.utf8), ifVersion: nil) }.version)] = (key, value)
        }
        waitFor(received, versions: Set(acked.keys))
        XCTAssertTrue(Set(acked.keys).isSubset(of: Set(received.all.map(\.version))), "every write after the growth was delivered")
        XCTAssertTrue(acked.keys.contains { $0 & 0xFF == 5 }, "some keys went to the new chain c5")
    }

    /// chainkv_watch_* from C against a sharded cluster: changes in order, deletes, a resume.
    func testTheCABIWatches() throws {
        let cluster = try ClusterFixture(size: 3, chains: 3)
        defer { cluster.stop() }
        let exe = try TestEnvironment.compileC("watch_test")
        let c = try TestEnvironment.run(exe, [cluster.servers.joined(separator: ",")])
        XCTAssertEqual(c.status, 0, c.output)
        XCTAssertTrue(c.output.contains("C ABI watches:") && c.output.contains(" 0 failed"), c.output)
    }

    func testTheCLIPrintsChangesAndACompactedCursorFails() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let servers = ["--servers", cluster.servers.joined(separator: ",")]
        XCTAssertEqual(try CLIProcess.run(["put"] + servers + ["k/1", "one"]).status, 0)
        XCTAssertEqual(try CLIProcess.run(["delete"] + servers + ["k/1"]).status, 0)
        // From the start of the history: the put and the delete, then --count stops it.
        var r = try CLIProcess.run(["watch"] + servers + ["--prefix", "k/", "--after", "c0:0", "--count", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.out.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(lines.map { [$0[0], $0[1]] }, [["put", "k/1"], ["delete", "k/1"]])
        XCTAssertEqual(lines.first?.last, "one")
        r = try CLIProcess.run(["watch"] + servers + ["k/1", "--after", "c0:0", "--count", "1", "--json"])
        XCTAssertEqual(r.json?["type"] as? String, "put")
        XCTAssertNotNil(r.json?["cursor"] as? String)
        // Every server restarted: their histories start after what they hold, so the start is gone.
        for i in 0..<3 { cluster.kill(i) }
        for i in 0..<3 { try cluster.start(i) }
        try cluster.waitForChain(members: 3)
        r = try CLIProcess.run(["watch"] + servers + ["--prefix", "k/", "--after", "c0:0", "--count", "1"])
        XCTAssertEqual(r.status, 7, r.stderr)
        XCTAssertTrue(r.stderr.contains("no longer kept"), r.stderr)
        r = try CLIProcess.run(["watch"] + servers + ["k/1", "--prefix", "k/"])
        XCTAssertEqual(r.status, 2, "a key and a prefix exclude each other")
    }
}

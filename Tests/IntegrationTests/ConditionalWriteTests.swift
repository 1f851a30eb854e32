import ChainKV
import ChainStorage
import Foundation
import XCTest

/// Versions and conditional writes against real servers and ZooKeeper: the Swift client, the
/// CLI, the C ABI from C and Python, and a compare-and-set race between two processes.
final class ConditionalWriteTests: XCTestCase {
    var library: String { TestEnvironment.binDir.appendingPathComponent("libchainkvc.so").path }
    var here: URL { TestEnvironment.repo.appendingPathComponent("Tests/IntegrationTests") }
    var cli: String { TestEnvironment.binDir.appendingPathComponent("chainkv").path }

    /// Two processes, 1000 rounds: both read the version, meet at a barrier and put on it;
    /// exactly one wins each round and the loser is told the winner's version.
    func testCompareAndSetRaceBetweenTwoProcesses() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let run = try TestEnvironment.run("/usr/bin/python3", [here.appendingPathComponent("python/cas_test.py").path,
                                                               library, cluster.servers.joined(separator: ","), "race"], timeout: 900)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("python cas race: 1 passed, 0 failed (1000 rounds"), run.output)
    }

    func testPythonAndCStatusCodes() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let python = try TestEnvironment.run("/usr/bin/python3", [here.appendingPathComponent("python/cas_test.py").path,
                                                                  library, cluster.servers.joined(separator: ","), "single"])
        XCTAssertEqual(python.status, 0, python.output)
        XCTAssertTrue(python.output.contains("python cas single:") && python.output.contains(" 0 failed"), python.output)
        let exe = try TestEnvironment.compileC("versions_test")
        let c = try TestEnvironment.run(exe, [cluster.servers.joined(separator: ",")])
        XCTAssertEqual(c.status, 0, c.output)
        XCTAssertTrue(c.output.contains("C ABI versions:") && c.output.contains(" 0 failed"), c.output)
    }

    /// Versions are the chain's: after the head dies, the new head reports the same version, a
    /// write on it succeeds, and one on the old version fails with the current one.
    func testVersionsSurviveAHeadFailover() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        let created = try blockingTest { try await client.put("cas", Array("one".utf8), ifVersion: 0) }
        let v1 = try XCTUnwrap(created.version)
        XCTAssertEqual(try blockingTest { try await client.put("cas", Array("again".utf8), ifVersion: 0) }, .conditionFailed(current: v1))
        XCTAssertEqual(try blockingTest { try await client.getVersioned("cas") }, VersionedValue(Array("one".utf8), version: v1))
        XCTAssertEqual(try blockingTest { try await client.get("cas") }, Array("one".utf8), "the unversioned get sees it too")

        let head = try XCTUnwrap(try cluster.chainInfo().head)
        cluster.kill(Int(head.id.dropFirst())! - 1)
        XCTAssertEqual(try blockingTest { try await client.getVersioned("cas") }, VersionedValue(Array("one".utf8), version: v1),
                       "the new head has the same version")
        let second = try blockingTest { try await client.put("cas", Array("two".utf8), ifVersion: v1) }
        let v2 = try XCTUnwrap(second.version)
        XCTAssertGreaterThan(v2, v1)
        XCTAssertEqual(try blockingTest { try await client.delete("cas", ifVersion: v1) }, .conditionFailed(current: v2))
        XCTAssertEqual(try blockingTest { try await client.delete("cas", ifVersion: v2) }.version.map { $0 > v2 }, true)
        XCTAssertNil(try blockingTest { try await client.getVersioned("cas") })
        XCTAssertEqual(try blockingTest { try await client.delete("cas", ifVersion: 0) }.version.map { $0 > v2 }, true,
                       "a delete of an absent key on version 0 applies (and changes nothing)")
    }

    /// A server revived after missing writes rejoins through a snapshot: its rows carry the
    /// versions the chain gave them, not the snapshot's point, so every replica agrees on them.
    func testAJoinerGetsTheChainsVersions() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        func members() -> [String] { (try? cluster.chainInfo().members.map(\.id)) ?? [] }
        for i in 0..<50 { _ = try blockingTest { try await client.put("before-\(i)", [UInt8(i)], ifVersion: nil) } }
        cluster.kill(1)
        try waitFor("the chain to drop n2") { members() == ["n1", "n3"] }
        for i in 0..<50 { _ = try blockingTest { try await client.put("gap-\(i)", [UInt8(i)], ifVersion: nil) } }
        try cluster.start(1)
        try waitFor("n2 to rejoin as tail") { members() == ["n1", "n3", "n2"] }
        _ = try blockingTest { try await client.put("after", [1], ifVersion: nil) }
        cluster.stop()
        func versions(_ i: Int) throws -> [String: UInt64] {
            let store = try Store(path: cluster.dbPath(i))
            defer { store.close() }
            var result: [String: UInt64] = [:]
            var cursor = ScanCursor.start
            while case let page = try store.scan(after: cursor, limit: 1000, byteLimit: 1 << 20), !page.rows.isEmpty {
                for row in page.rows { result[row.key] = row.version }
                cursor = page.next
            }
            return result
        }
        let head = try versions(0)
        XCTAssertEqual(head.count, 101)
        XCTAssertEqual(Set(head.values).count, 101, "each key was set by a write of its own")
        XCTAssertEqual(try versions(1), head, "the joiner's versions are the chain's")
        XCTAssertEqual(try versions(2), head)
    }

    func testCLIFlags() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let servers = ["--servers", cluster.servers.joined(separator: ",")]
        func chainkv(_ args: [String]) throws -> (status: Int32, json: [String: Any]) {
            let r = try TestEnvironment.run(cli, args + servers + ["--json"], timeout: 60)
            let line = r.output.split(separator: "\n").last.map(String.init) ?? ""
            return (r.status, (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? ["output": r.output])
        }
        var r = try chainkv(["put", "--if-version", "0", "cli-cas", "one"])
        XCTAssertEqual(r.status, 0, "\(r.json)")
        XCTAssertEqual(r.json["applied"] as? Bool, true)
        let v1 = try XCTUnwrap(r.json["version"] as? Int)
        r = try chainkv(["get", "--version", "cli-cas"])
        XCTAssertEqual(r.status, 0, "\(r.json)")
        XCTAssertEqual(r.json["version"] as? Int, v1)
        XCTAssertEqual(r.json["value"] as? String, "one")
        r = try chainkv(["put", "--if-version", "0", "cli-cas", "two"])
        XCTAssertEqual(r.status, 6, "a failed condition exits 6: \(r.json)")
        XCTAssertEqual(r.json["applied"] as? Bool, false)
        XCTAssertEqual(r.json["current"] as? Int, v1)
        r = try chainkv(["delete", "--if-version", "\(v1)", "cli-cas"])
        XCTAssertEqual(r.status, 0, "\(r.json)")
        XCTAssertEqual(r.json["existed"] as? Bool, true)
        r = try chainkv(["get", "--version", "cli-cas"])
        XCTAssertEqual(r.status, 1, "\(r.json)")
        XCTAssertEqual(r.json["version"] as? Int, 0)
        let text = try TestEnvironment.run(cli, ["put", "--if-version", "0", "cli-cas", "three"] + servers, timeout: 60)
        XCTAssertEqual(text.status, 0, text.output)
        XCTAssertTrue(text.output.contains("OK (version "), text.output)
    }
}

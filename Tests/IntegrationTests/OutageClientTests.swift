import ChainKV
import Foundation
import XCTest

/// A client that never gives up: it keeps its servers when `init` finds no head, and every later
/// call looks for the head again, so a process that initialised during an outage works as soon as
/// the cluster does (the paper API, the C ABI and `ChainKVClient`).
final class OutageClientTests: XCTestCase {
    /// Writes `value-<prefix>-<i>` under `<prefix>-<i>` and returns what was acknowledged.
    func write(_ cluster: ClusterFixture, prefix: String, count: Int) throws -> [String: [UInt8]] {
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        return try blockingTest {
            var acked: [String: [UInt8]] = [:]
            for i in 0..<count {
                let key = "\(prefix)-\(i)", value = Array("value-\(prefix)-\(i)".utf8)
                try await client.put(key, value)
                acked[key] = value
            }
            return acked
        }
    }

    /// Kills every server, n1 last: n1 is then in the last configuration whatever the leader
    /// managed to write while the others died, so it may restart the chain alone.
    func killAll(_ cluster: ClusterFixture) {
        for i in [2, 1, 0] { cluster.kill(i) }
    }

    func testClientsInitialisedDuringTotalFailureWorkOnceAMemberIsBack() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let acked = try write(cluster, prefix: "o", count: 100)
        killAll(cluster)

        let paper = PaperClient()
        XCTAssertEqual(paper.`init`(servers: cluster.servers, port: 0), PaperClient.networkError, "no head while every server is down")
        XCTAssertEqual(paper.get("o-0").status, PaperClient.networkError, "a call during the outage fails (fast: every server refuses)")
        let async = try ChainKVClient(servers: cluster.servers)
        defer { async.beginShutdown() }

        try cluster.start(0)
        let deadline = Date().addingTimeInterval(60)
        var read: [String: [UInt8]] = [:]
        while read.count < acked.count && Date() < deadline {
            for (key, value) in acked where read[key] == nil {
                let (status, got) = paper.get(key)
                if status == PaperClient.ok { XCTAssertEqual(got, value, key); read[key] = got } else { break }
            }
            if read.count < acked.count { usleep(100_000) }
        }
        XCTAssertEqual(read.count, acked.count, "the paper client initialised during the outage reads every acknowledged key\n\(cluster.logs())")
        for (key, value) in acked {
            XCTAssertEqual(try blockingTest { try await async.get(key) }, value, "ChainKVClient made during the outage: \(key)")
        }
        XCTAssertEqual(paper.put("o-new", Array("after".utf8)).status, PaperClient.absent, "and writes")
        _ = paper.shutdown()
    }

    func testCProgramInitialisedDuringTotalFailureWorksOnceAMemberIsBack() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        _ = try write(cluster, prefix: "c", count: 50)
        killAll(cluster)

        let exe = try TestEnvironment.compileC("outage_test")
        let program = Process()
        program.executableURL = URL(fileURLWithPath: exe)
        program.arguments = [cluster.servers.joined(separator: ","), "c", "50", "90"]
        let out = Pipe()
        program.standardOutput = out
        program.standardError = out
        try program.run()
        // The program initialised while nothing ran (its first line says so); now bring n1 back.
        sleep(2)
        try cluster.start(0)
        program.waitUntilExit()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(output.hasPrefix("init -1"), "chainkv_init during the outage is -1: \(output)")
        XCTAssertEqual(program.terminationStatus, 0, "every key read back without a second chainkv_init: \(output)\n\(cluster.logs())")
        XCTAssertTrue(output.contains("read back 50 of 50"), output)
    }

    /// Refused connections fail fast: with every listed server refusing, the CLI does not spend
    /// its whole retry budget (10 s) before it reports the network error.
    func testCLIFailsFastWhenEveryServerRefuses() throws {
        let ports = (0..<2).map { _ in TestEnvironment.freePort() }
        let cli = TestEnvironment.binDir.appendingPathComponent("chainkv").path
        let started = Date()
        let run = try TestEnvironment.run(cli, ["get", "k", "--servers", ports.map { "127.0.0.1:\($0)" }.joined(separator: ",")])
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(run.status, 3, "network error: \(run.output)")
        XCTAssertLessThan(elapsed, 5, "gave up early instead of retrying for the 10 s budget: \(elapsed) s")
    }
}

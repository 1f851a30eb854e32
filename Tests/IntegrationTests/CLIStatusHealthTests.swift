import Foundation
import XCTest

/// `chainkv status` as a health check: exit 0 when every member answers, 5 with the reason in
/// one line when one does not or fewer than --expect are live; with ZooKeeper down, no ZooKeeper
/// client log and the servers' view instead. Runs the real binary against a real cluster.
final class CLIStatusHealthTests: XCTestCase {
    func testStatusExitCodeFollowsTheChainsHealth() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let servers = ["--servers", cluster.servers.joined(separator: ",")]
        let withZK = ["status"] + servers + ["--zookeeper", cluster.zookeeper, "--cluster", cluster.cluster]

        var r = try CLIProcess.run(withZK + ["--expect", "3"])
        XCTAssertEqual(r.status, 0, r.out + r.stderr)
        XCTAssertEqual(r.stderr, "")
        r = try CLIProcess.run(withZK + ["--expect", "4"])
        XCTAssertEqual(r.status, 5, r.out + r.stderr)
        XCTAssertEqual(r.stderr, "chainkv: unhealthy: 3 of 4 expected servers live\n")
        XCTAssertTrue(r.out.contains("n1 -> n2 -> n3"), "the view is still printed: \(r.out)")
        r = try CLIProcess.run(withZK + ["--expect", "4", "--json"])
        XCTAssertEqual(r.status, 5)
        XCTAssertEqual(r.json?["healthy"] as? Bool, false, r.out)
        XCTAssertEqual(r.json?["problems"] as? [String], ["3 of 4 expected servers live"], r.out)

        // Without ZooKeeper: the head's view, the leader still marked, the same health rules.
        let noZK = ["CHAINKV_ZK": ""]
        r = try CLIProcess.run(["status"] + servers + ["--json"], environment: noZK)
        XCTAssertEqual(r.status, 0, r.out + r.stderr)
        XCTAssertEqual(r.json?["chain"] as? [String], ["n1", "n2", "n3"], r.out)
        XCTAssertEqual(r.json?["healthy"] as? Bool, true, r.out)
        XCTAssertNotNil(r.json?["leader"] as? String, "leader marked without ZooKeeper: \(r.out)")

        // The tail crashes: the chain member is reported failed/unreachable until it is gone from
        // the chain; with --expect 3 the cluster stays unhealthy after the repair too.
        cluster.kill(2)
        r = try CLIProcess.run(withZK + ["--expect", "3"])
        XCTAssertEqual(r.status, 5, r.out + r.stderr)
        let line = r.stderr.split(separator: "\n")
        XCTAssertEqual(line.count, 1, r.stderr)
        XCTAssertTrue(line.first?.hasPrefix("chainkv: unhealthy: ") == true, r.stderr)
        XCTAssertTrue(r.stderr.contains("n3 (\(cluster.servers[2])) failed") || r.stderr.contains("n3 (\(cluster.servers[2])) unreachable")
                      || r.stderr.contains("2 of 3 expected servers live"), r.stderr)
        r = try CLIProcess.run(["status"] + servers + ["--expect", "3"], environment: noZK)
        XCTAssertEqual(r.status, 5, r.out + r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("chainkv: unhealthy: "), r.stderr)
    }

    func testStatusAgainstADeadZooKeeperAsksTheServersQuietly() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let dead = "127.0.0.1:\(TestEnvironment.freePort())"
        let args = ["status", "--servers", cluster.servers.joined(separator: ","), "--zookeeper", dead]
        let started = Date()
        var r = try CLIProcess.run(args)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
        XCTAssertFalse(r.stderr.contains("ZOO_"), "no ZooKeeper C client log: \(r.stderr)")
        XCTAssertEqual(r.stderr.split(separator: "\n"), [
            "chainkv: ZooKeeper at \(dead) did not answer; asking the servers instead",
            "chainkv: unhealthy: ZooKeeper at \(dead) did not answer",
        ], r.stderr)
        XCTAssertTrue(r.out.contains("n1 -> n2 -> n3"), "the servers' view: \(r.out)")
        XCTAssertEqual(r.status, 5)
        r = try CLIProcess.run(args + ["--json"])
        XCTAssertEqual(r.status, 5)
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(r.json?["chain"] as? [String], ["n1", "n2", "n3"], r.out)
        XCTAssertEqual(r.json?["problems"] as? [String], ["ZooKeeper at \(dead) did not answer"], r.out)
        // The C client's lines are still there for whoever asks (at debug).
        r = try CLIProcess.run(args, environment: ["CHAINKV_LOG_LEVEL": "debug"])
        XCTAssertTrue(r.stderr.contains("ZOO_ERROR"), r.stderr)
    }
}

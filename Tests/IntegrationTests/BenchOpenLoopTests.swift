import Foundation
import XCTest

/// `chainkv bench run --rate`: an open loop offers the rate asked for, not what the servers can
/// take, and records it. Runs the real `chainkv` binary against a real cluster.
final class BenchOpenLoopTests: XCTestCase {
    func testAnOpenLoopSendsAtItsRateAndRecordsIt() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let dir = try TestEnvironment.temporaryDirectory("bench-open-loop")
        let csv = dir.appendingPathComponent("open.csv")
        // 200 writes a second over 4 loops for 3 s: a closed loop of 4 writers does well over
        // 1,000 here, so a run near 200/s shows the pacing, and the ops bound is never reached.
        let r = try CLIProcess.run(["bench", "run", "--servers", cluster.servers.joined(separator: ","),
                                    "--rate", "200", "--clients", "4", "--mix", "0:100", "--entries", "100",
                                    "--sizes", "16:64", "--duration", "3", "--warmup", "0.5", "--ops", "100000",
                                    "--quiet", "--json", "--csv-file", csv.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let point = try XCTUnwrap((r.json?["results"] as? [[String: Any]])?.first, r.out)
        XCTAssertEqual(point["rate"] as? Double, 200)
        let throughput = try XCTUnwrap(point["throughput"] as? Double)
        XCTAssertGreaterThan(throughput, 120, "it kept up with 200/s")
        XCTAssertLessThan(throughput, 280, "it did not send as fast as it could (a closed loop)")
        let ops = (point["operations"] as? [String: Any])?["put"] as? [String: Any]
        XCTAssertEqual(ops?["errors"] as? Int, 0, r.out)
        // The CSV ends each row with the rate.
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first?.split(separator: ",").last, "rate")
        XCTAssertEqual(lines.dropFirst().first?.split(separator: ",").last, "200")
    }

    func testALowRateEndsAtTheDeadlineNotAtTheNextDueTime() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        // 1 request a second over 16 loops: each loop's gaps average 16 s, so a loop that slept to
        // its next due time would end the point about 16 s late, and the slowest of 16 about 50 s.
        let started = Date()
        let r = try CLIProcess.run(["bench", "run", "--servers", cluster.servers.joined(separator: ","),
                                    "--rate", "1", "--clients", "16", "--mix", "100:0", "--entries", "20",
                                    "--sizes", "16:64", "--duration", "2", "--warmup", "0", "--quiet", "--json"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "the point ended at its 2 s deadline")
        let point = try XCTUnwrap((r.json?["results"] as? [[String: Any]])?.first, r.out)
        XCTAssertEqual(point["rate"] as? Double, 1)
    }

    func testARateOutsideItsBoundsIsAUsageError() throws {
        for rate in ["0", "0.5", "-5", "1000001", "fast"] {
            let r = try CLIProcess.run(["bench", "run", "--rate", rate])
            XCTAssertEqual(r.status, 2, "--rate \(rate): \(r.stderr)")
        }
    }
}

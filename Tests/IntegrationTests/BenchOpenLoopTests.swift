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

    /// A stall of the head: a closed loop would send nothing while it waits, and count one slow
    /// request per loop; an open loop keeps its requests due, and each one's latency counts from
    /// its due time, so every request of the stalled second is slow.
    func testLatencyCountsFromTheDueTimeAcrossAStall() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let head = try cluster.chainInfo().head!
        let headIndex = try XCTUnwrap(cluster.nodes.firstIndex { $0.port == head.port })
        let result = ResultBox()
        // Reads at 200/s over 4 loops for 4 s: about 800 requests, 200 of them due in the stall.
        let bench = Thread {
            let r = try? CLIProcess.run(["bench", "run", "--servers", cluster.servers.joined(separator: ","),
                                         "--rate", "200", "--clients", "4", "--mix", "100:0", "--entries", "20",
                                         "--sizes", "16:64", "--duration", "4", "--warmup", "0", "--quiet", "--json"], timeout: 120)
            result.set(r)
        }
        bench.start()
        // The head stops for 1 s (shorter than the heartbeat timeout: the chain stays as it is).
        Thread.sleep(forTimeInterval: 2)
        kill(cluster.pid(headIndex), SIGSTOP)
        Thread.sleep(forTimeInterval: 1)
        kill(cluster.pid(headIndex), SIGCONT)
        let deadline = Date().addingTimeInterval(110)
        while result.get() == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        let r = try XCTUnwrap(result.get(), "the bench finished")
        XCTAssertEqual(r.status, 0, r.stderr)
        let point = try XCTUnwrap((r.json?["results"] as? [[String: Any]])?.first, r.out)
        let get = try XCTUnwrap((point["operations"] as? [String: Any])?["get"] as? [String: Any], r.out)
        // A quarter of the requests waited up to 1 s: the p99 is hundreds of ms. Timed from when
        // each was sent, 4 of 800 would have been slow, and the p99 a few ms.
        XCTAssertGreaterThan(try XCTUnwrap(get["p99Ms"] as? Double), 300, r.out)
        XCTAssertLessThan(try XCTUnwrap(get["p50Ms"] as? Double), 300, "most requests were not in the stall: \(r.out)")
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

/// The bench's result, handed from the thread that ran it.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: CLIResult?
    func set(_ r: CLIResult?) { lock.lock(); result = r; lock.unlock() }
    func get() -> CLIResult? { lock.lock(); defer { lock.unlock() }; return result }
}

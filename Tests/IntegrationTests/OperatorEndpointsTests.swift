import ChainVersion
import Foundation
import XCTest

/// What an operator's tooling asks of chainkv: `--version` of both executables, and `/healthz`
/// and `/readyz` on a server's metrics port (`/metrics` itself: OperationsTests).
final class OperatorEndpointsTests: XCTestCase {
    func testVersionNamesTheReleaseAndTheCommitOfTheBuild() throws {
        // The commit of the checkout the tests run in (nil without git): the binaries were built from it.
        let head = try? TestEnvironment.run("/usr/bin/git", ["-C", TestEnvironment.repo.path, "rev-parse", "--short=7", "HEAD"], timeout: 10)
        for program in ["chainkv", "chainkv-server"] {
            let r = try TestEnvironment.run(TestEnvironment.binDir.appendingPathComponent(program).path, ["--version"], timeout: 10)
            XCTAssertEqual(r.status, 0, r.output)
            let line = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertEqual(line, ChainVersion.line(program), "the binary and the tests were built from the same tree")
            let commit = try XCTUnwrap(line.wholeMatch(of: /[a-z-]+ \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,40}(-modified)?|unknown)\)/)?.1,
                                       line)
            if let head, head.status == 0, ProcessInfo.processInfo.environment["CHAINKV_BIN_DIR"] == nil {
                XCTAssertEqual(commit.split(separator: "-").first, Substring(head.output.trimmingCharacters(in: .whitespacesAndNewlines)),
                               "built from this checkout's HEAD")
            }
        }
    }

    func testHealthzAndReadyzAndUnknownPaths() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        for i in 0..<3 {
            XCTAssertEqual(try Self.get(cluster.metricsPort(i), "/healthz").code, 200)
            XCTAssertEqual(try Self.get(cluster.metricsPort(i), "/healthz").body, "ok")
            // Formed means every member read the configuration; acting in it may take a moment longer.
            let ready = try Self.waitReady(cluster.metricsPort(i), within: 20)
            XCTAssertEqual(ready.code, 200, "n\(i + 1): \(ready.body)")
            XCTAssertEqual(ready.body, "ok")
        }
        let unknown = try Self.get(cluster.metricsPort(0), "/ready")
        XCTAssertEqual(unknown.code, 404)
        XCTAssertTrue(unknown.body.contains("/readyz"), unknown.body)

        // A restarted server is ready once it has rejoined by state transfer and caught up.
        cluster.kill(2)
        try cluster.waitForChain(members: 2)
        try cluster.start(2)
        let (ready, notReady) = try Self.waitReadyRecording(cluster.metricsPort(2), within: 60)
        XCTAssertEqual(ready.code, 200, "\(ready.body); logs: \(cluster.logs())")
        XCTAssertTrue(notReady.allSatisfy { $0.hasPrefix("not ready: ") }, "\(notReady)")
        try cluster.waitForChain(members: 3)
        for i in 0..<3 { XCTAssertEqual(try Self.get(cluster.metricsPort(i), "/readyz").code, 200, "n\(i + 1)") }

        // A server that no chain configuration names is alive but not ready: one alone in a
        // cluster of its own that waits (10 minutes) for a second server before it forms a chain.
        let lone = try ClusterFixture(size: 1, serverArguments: ["--expected-members", "2", "--formation-timeout-ms", "600000"],
                                      formed: false)
        defer { lone.stop() }
        XCTAssertEqual(try Self.get(lone.metricsPort(0), "/healthz").code, 200)
        let answer = try Self.get(lone.metricsPort(0), "/readyz")
        XCTAssertEqual(answer.code, 503)
        XCTAssertEqual(answer.body, "not ready: no chain configuration read yet")
    }

    /// One GET with curl: the status (0 when nothing answered) and the body without its final newline.
    static func get(_ port: Int, _ path: String) throws -> (code: Int, body: String) {
        let r = try TestEnvironment.run("/usr/bin/curl", ["-s", "-m", "5", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"],
                                        timeout: 10)
        var lines = r.output.split(separator: "\n", omittingEmptySubsequences: false)
        let code = Int(lines.popLast() ?? "") ?? 0
        return (code, lines.joined(separator: "\n").trimmingCharacters(in: .newlines))
    }

    static func waitReady(_ port: Int, within seconds: TimeInterval) throws -> (code: Int, body: String) {
        try waitReadyRecording(port, within: seconds).last
    }

    /// Polls `/readyz` until it answers 200 or time is up: the last answer, and every distinct 503 body seen.
    static func waitReadyRecording(_ port: Int, within seconds: TimeInterval) throws -> (last: (code: Int, body: String), notReady: [String]) {
        let deadline = Date().addingTimeInterval(seconds)
        var notReady: [String] = []
        var last = try get(port, "/readyz")
        while last.code != 200 && Date() < deadline {
            if last.code == 503, !notReady.contains(last.body) { notReady.append(last.body) }
            usleep(100_000)
            last = try get(port, "/readyz")
        }
        return (last, notReady)
    }
}

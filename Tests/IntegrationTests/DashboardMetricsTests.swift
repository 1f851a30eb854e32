import ChainVersion
import Foundation
import XCTest

/// The Grafana dashboard (`conf/grafana-chainkv.json`) against real servers: every metric one of
/// its queries uses is in a scrape of a running cluster, documented in the README, and the
/// operator's figures (build, ZooKeeper session, applied sequence and lag, files, connections,
/// state transfers, process) say what they should.
final class DashboardMetricsTests: XCTestCase {
    func testEveryMetricTheDashboardUsesIsScrapedAndDocumented() throws {
        let used = try Self.dashboardMetrics()
        XCTAssertGreaterThanOrEqual(used.count, 25, "\(used.sorted())")

        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let servers = cluster.servers.joined(separator: ",")
        for i in 0..<20 { XCTAssertEqual(try chainkv(["put", "--servers", servers, "d\(i)", "value \(i)"]).status, 0) }
        XCTAssertEqual(try chainkv(["get", "--servers", servers, "d1"]).status, 0)
        // A restarted server rejoins by state transfer, which the tail sends (and counts).
        cluster.kill(2)
        try cluster.waitForChain(members: 2)
        try cluster.start(2)
        try cluster.waitForChain(members: 3)
        XCTAssertEqual(try OperatorEndpointsTests.waitReady(cluster.metricsPort(2), within: 60).code, 200)
        // Files, lags and the process are sampled once a second.
        sleep(2)

        let scrapes = try (0..<3).map { try scrape(cluster.metricsPort($0)) }
        let samples = scrapes.map(Self.samples)
        let scraped = Set(samples.flatMap { $0.map(\.name) })
        for name in used.sorted() { XCTAssertTrue(scraped.contains(name), "the dashboard uses \(name), which no server exports") }

        let readme = try String(contentsOf: TestEnvironment.repo.appendingPathComponent("README.md"), encoding: .utf8)
        for name in used {
            let family = name.replacing(/_(bucket|sum|count)$/, with: "")
            XCTAssertTrue(readme.contains("`\(family)"), "\(family) is not in the README's metrics table")
        }

        for (i, s) in samples.enumerated() {
            let n = "n\(i + 1)"
            XCTAssertEqual(Self.value(s, "chainkv_build_info", ["version": ChainVersion.number, "commit": ChainVersion.commit]), 1, n)
            XCTAssertEqual(Self.value(s, "chainkv_zookeeper_connected"), 1, n)
            XCTAssertGreaterThanOrEqual(Self.value(s, "chainkv_applied_seq", ["chain": "c0"]) ?? 0, 20, "\(n) holds every write")
            XCTAssertGreaterThanOrEqual(Self.value(s, "chainkv_committed_seq", ["chain": "c0"]) ?? 0, 20, n)
            XCTAssertGreaterThan(Self.value(s, "chainkv_database_bytes", ["chain": "c0"]) ?? 0, 4096, n)
            XCTAssertNotNil(Self.value(s, "chainkv_wal_bytes", ["chain": "c0"]), n)
            XCTAssertGreaterThan(Self.value(s, "process_resident_memory_bytes") ?? 0, 1_048_576, n)
            XCTAssertGreaterThan(Self.value(s, "process_cpu_seconds_total") ?? 0, 0, n)
            XCTAssertGreaterThanOrEqual(Self.value(s, "chainkv_connections_open") ?? 0, 1, "\(n): peers' and the leader's links")
            XCTAssertEqual(Self.value(s, "chainkv_connections_max"), 1024, n)
            XCTAssertEqual(Self.value(s, "chainkv_connections_refused_total"), 0, n)
        }
        // The leader reports every member's lag; with no writes in flight it is 0.
        let leader = try XCTUnwrap(samples.firstIndex { Self.value($0, "chainkv_is_leader") == 1 }, "one server leads")
        for member in ["n1", "n2", "n3"] {
            XCTAssertEqual(Self.value(samples[leader], "chainkv_member_lag", ["chain": "c0", "member": member]), 0,
                           "\(member): \(scrapes[leader])")
        }
        // The transfer to the restarted server: sent once by a tail, successfully, and timed.
        let sent = samples.map { Self.value($0, "chainkv_state_transfers_total", ["result": "ok"]) ?? 0 }.reduce(0, +)
        let timed = samples.map { Self.value($0, "chainkv_state_transfer_duration_seconds_count") ?? 0 }.reduce(0, +)
        XCTAssertGreaterThanOrEqual(sent, 1, "\(scrapes)")
        XCTAssertGreaterThanOrEqual(timed, sent)
    }

    /// Every `chainkv_*` and `process_*` name in the dashboard's queries (panels and variables).
    static func dashboardMetrics() throws -> Set<String> {
        let url = TestEnvironment.repo.appendingPathComponent("conf/grafana-chainkv.json")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var queries: [String] = []
        for panel in json["panels"] as? [[String: Any]] ?? [] {
            for target in panel["targets"] as? [[String: Any]] ?? [] { queries.append(try XCTUnwrap(target["expr"] as? String)) }
        }
        let variables = (json["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        queries += variables.compactMap { $0["query"] as? String }
        XCTAssertGreaterThanOrEqual(queries.count, 20)
        return Set(queries.flatMap { $0.matches(of: /\b(?:chainkv|process)_[a-z_]+\b/).map { String($0.output) } })
    }

    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// The sample lines of a Prometheus text scrape (label values here hold no commas or quotes).
    static func samples(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { line -> Sample? in
            guard !line.hasPrefix("#"), let m = line.wholeMatch(of: /([a-z_]+)(?:\{(.*)\})? (\S+)/), let value = Double(m.3) else { return nil }
            var labels: [String: String] = [:]
            for pair in (m.2 ?? "").split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { labels[String(kv[0])] = String(kv[1].dropFirst().dropLast()) }
            }
            return Sample(name: String(m.1), labels: labels, value: value)
        }
    }

    /// The value of the one sample of `name` whose labels include `labels`; nil if there is none.
    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { k, v in sample.labels[k] == v } }?.value
    }

    private func scrape(_ port: Int) throws -> String {
        let r = try TestEnvironment.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(port)/metrics"], timeout: 10)
        XCTAssertEqual(r.status, 0, r.output)
        return r.output
    }

    private func chainkv(_ args: [String]) throws -> (status: Int32, output: String) {
        try TestEnvironment.run(TestEnvironment.binDir.appendingPathComponent("chainkv").path, args, timeout: 30)
    }
}

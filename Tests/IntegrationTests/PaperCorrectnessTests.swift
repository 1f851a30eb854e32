import ChainKV
import ChainTestSupport
import ChainWire
import Foundation
import XCTest

/// The design paper's correctness tests against five real servers and a real ZooKeeper.
final class PaperCorrectnessTests: XCTestCase {
    /// Random alphanumeric text, as the paper's workloads use.
    static func text(_ n: Int, _ rng: inout some RandomNumberGenerator) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<n).map { _ in alphabet.randomElement(using: &rng)! })
    }

    func testSingleClientStatusCodesAndVaryingSizes() throws {
        let cluster = try ClusterFixture(size: 5)
        defer { cluster.stop() }
        let kv = PaperClient()
        XCTAssertEqual(kv.`init`(servers: cluster.servers, port: 0), 0)
        defer { _ = kv.shutdown() }

        XCTAssertEqual(kv.get("never-written").status, 1, "get of a key never written")
        var rng = SplitMix64(seed: 42)
        var expected: [String: [UInt8]] = [:]
        // The paper's (key, value) sizes, then the limits: 1 KiB keys and 1 MiB values.
        let sizes = [(2, 16), (4, 64), (16, 256), (64, 1024), (128, 1024), (1024, 4096), (8, 0), (32, 1 << 20), (1024, 1 << 20)]
        for (i, (k, v)) in sizes.enumerated() {
            for j in 0..<(v >= 1 << 20 ? 2 : 20) {
                let key = Self.text(max(1, k - 4), &rng) + String(format: "%02d%02d", i, j).suffix(min(4, k))
                let value = Array(Self.text(v, &rng).utf8)
                let (status, old) = kv.put(key, value)
                XCTAssertEqual(status, expected[key] == nil ? 1 : 0, "first put of \(key.prefix(20)) (\(k),\(v))")
                XCTAssertEqual(old, expected[key])
                expected[key] = value
            }
        }
        for (key, value) in expected {
            let (status, got) = kv.get(key)
            XCTAssertEqual(status, 0)
            XCTAssertEqual(got, value, "read back \(key.prefix(20))")
        }
        // Updates report the old value exactly.
        for key in expected.keys.sorted().prefix(30) {
            let newValue = Array("updated-\(key.count)".utf8)
            let (status, old) = kv.put(key, newValue)
            XCTAssertEqual(status, 0)
            XCTAssertEqual(old, expected[key])
            expected[key] = newValue
            XCTAssertEqual(kv.get(key).value, newValue)
        }
        // Delete: 0 when it existed, then 1, and the key reads as missing.
        let victim = expected.keys.sorted()[0]
        XCTAssertEqual(kv.delete(victim), 0)
        XCTAssertEqual(kv.delete(victim), 1)
        XCTAssertEqual(kv.get(victim).status, 1)
        expected[victim] = nil

        // Every replica's SQLite file holds the same rows: exactly what the client wrote.
        cluster.stop()
        let want = expected.map { Row(key: $0.key, value: $0.value) }.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
        for i in 0..<5 {
            let rows = try cluster.rows(i)
            XCTAssertEqual(rows.count, want.count, "row count on n\(i + 1)")
            XCTAssertTrue(rows == want, "rows of n\(i + 1) differ from what was acknowledged")
        }
    }

    /// Once a put is acknowledged, a get on another connection sees it. The head answers gets
    /// inside one SQLite read transaction per turn of its event loop (ChainNode+Reads): this
    /// checks, under concurrent writes, that no such transaction serves a value older than an
    /// acknowledged write.
    func testAGetAfterAnAcknowledgedPutSeesItOnAnotherConnection() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let writer = try ChainKVClient(servers: [cluster.address(0)])
        defer { writer.beginShutdown() }
        let readers = try (0..<4).map { _ in try ChainKVClient(servers: [cluster.address(1)]) }
        defer { readers.forEach { $0.beginShutdown() } }
        // 8 keys, each written by one task only: the value read right after an ack is that value.
        let stale = try blockingTest {
            try await withThrowingTaskGroup(of: [String].self) { group in
                for w in 0..<8 {
                    group.addTask {
                        var stale: [String] = []
                        for i in 0..<150 {
                            let value = Array("\(w)-\(i)".utf8)
                            _ = try await writer.put("rk\(w)", value)
                            let got = try await readers[(w + i) % readers.count].get("rk\(w)")
                            if got != value {
                                stale.append("rk\(w): wrote \(w)-\(i), read \(got.map { String(decoding: $0, as: UTF8.self) } ?? "nothing")")
                            }
                        }
                        return stale
                    }
                }
                var all: [String] = []
                for try await s in group { all += s }
                return all
            }
        }
        XCTAssertEqual(stale.count, 0, "reads after an acknowledged put saw an older value, first: \(stale.prefix(5))")
    }

    func testPipelinedWritesFromOneConnectionKeepPerKeyOrder() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: [cluster.address(2)])
        defer { client.beginShutdown() }
        // 200 puts to 10 keys in flight at once: each key's final value is its last write, and the
        // old values returned chain together exactly (each put saw the one sequenced before it).
        let olds = try blockingTest {
            try await withThrowingTaskGroup(of: (Int, [UInt8]?).self) { group in
                for i in 0..<200 {
                    group.addTask { (i, try await client.put("k\(i % 10)", Array("\(i)".utf8))) }
                }
                var all: [Int: [UInt8]?] = [:]
                for try await (i, old) in group { all[i] = old }
                return all
            }
        }
        for k in 0..<10 {
            let writes = (0..<200).filter { $0 % 10 == k }
            // Every value written to the key is reported as old exactly once, except the last one.
            let reported = writes.compactMap { olds[$0]! }.map { String(decoding: $0, as: UTF8.self) }
            XCTAssertEqual(writes.filter { olds[$0]! == nil }.count, 1, "exactly one put created k\(k)")
            let final = try blockingTest { try await client.get("k\(k)") }.map { String(decoding: $0, as: UTF8.self) }
            XCTAssertEqual(Set(reported + [final!]), Set(writes.map { "\($0)" }), "old values of k\(k) chain together")
        }
    }
}

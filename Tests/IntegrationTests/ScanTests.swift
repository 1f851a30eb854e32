import ChainKV
import Foundation
import XCTest

/// Range and prefix scans against real servers: pages in key order that together equal the set
/// written, across chains, while writes go on, and from the CLI.
final class ScanTests: XCTestCase {
    /// Writes `count` keys with `inFlight` puts at a time; returns key → value.
    func write(_ client: ChainKVClient, prefix: String, count: Int, inFlight: Int = 200) throws -> [String: [UInt8]] {
        try blockingTest {
            var written: [String: [UInt8]] = [:]
            try await withThrowingTaskGroup(of: (String, [UInt8]).self) { group in
                var next = 0
                while true {
                    while group.isEmpty || (next < count && written.count + inFlight > next) {
                        guard next < count else { break }
                        let key = String(format: "%@%06d", prefix, next), value = Array("v\(next)".utf8)
                        group.addTask { try await client.put(key, value); return (key, value) }
                        next += 1
                    }
                    guard let (key, value) = try await group.next() else { break }
                    written[key] = value
                }
            }
            return written
        }
    }

    /// Every entry of the prefix, page by page; checks each page is in strictly increasing order.
    func scanAll(_ client: ChainKVClient, prefix: String, pageSize: Int) throws -> [ScanEntry] {
        try blockingTest {
            var all: [ScanEntry] = []
            var after: String?
            repeat {
                let page = try await client.scan(prefix: prefix, after: after, limit: pageSize)
                XCTAssertLessThanOrEqual(page.entries.count, pageSize)
                all += page.entries
                after = page.next
            } while after != nil
            return all
        }
    }

    func assertStrictlyIncreasing(_ entries: [ScanEntry], file: StaticString = #filePath, line: UInt = #line) {
        for (a, b) in zip(entries, entries.dropFirst()) where !a.key.utf8.lexicographicallyPrecedes(b.key.utf8) {
            return XCTFail("\(a.key) then \(b.key): not in byte order, or repeated", file: file, line: line)
        }
    }

    func testAScanOf100000KeysInPagesEqualsTheSetWrittenAcrossFiveChains() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        let written = try write(client, prefix: "k/", count: 100_000)
        _ = try write(client, prefix: "other/", count: 100)  // outside the prefix
        let entries = try scanAll(client, prefix: "k/", pageSize: 1000)
        assertStrictlyIncreasing(entries)
        XCTAssertEqual(entries.count, 100_000)
        XCTAssertEqual(Dictionary(entries.map { ($0.key, $0.value) }) { a, _ in a }, written)
        XCTAssertTrue(entries.allSatisfy { $0.version > 0 })
        // A range, and pages of one key.
        let range = try blockingTest { try await client.scan(from: "k/000100", to: "k/000105") }
        XCTAssertEqual(range.entries.map(\.key), (100..<105).map { String(format: "k/%06d", $0) })
        XCTAssertNil(range.next)
        XCTAssertEqual(try scanAll(client, prefix: "k/00001", pageSize: 1).map(\.key), (10..<20).map { String(format: "k/%06d", $0) })
        // A version from a scan is the one a get reports.
        let got = try blockingTest { try await client.getVersioned(entries[500].key) }
        XCTAssertEqual(got?.version, entries[500].version)
    }

    /// Pages taken while writers overwrite and delete keys: every page in order, no key twice,
    /// every key that is never deleted present, and no value that was never written.
    func testScansDuringWritesShowEachLiveKeyOnceWithAWrittenValue() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        _ = try write(client, prefix: "s/", count: 2000)
        let stop = ManagedAtomicFlag()
        let writers = Task {
            var round = 0
            while !stop.isSet {
                round += 1
                for i in stride(from: 0, to: 2000, by: 7) {
                    let key = String(format: "s/%06d", i)
                    if i % 2 == 0 { try await client.put(key, Array("v\(i)-round\(round)".utf8)) } else { try await client.delete(key) }
                }
                for i in stride(from: 1, to: 2000, by: 14) { try await client.put(String(format: "s/%06d", i), Array("v\(i)".utf8)) }
            }
        }
        defer { stop.set(); _ = try? blockingTest { try await writers.value } }
        for _ in 0..<5 {
            let entries = try scanAll(client, prefix: "s/", pageSize: 97)
            assertStrictlyIncreasing(entries)
            let keys = Set(entries.map(\.key))
            for i in 0..<2000 where i % 7 != 0 { XCTAssertTrue(keys.contains(String(format: "s/%06d", i)), "s/\(i) is never deleted") }
            for entry in entries {
                let i = Int(entry.key.dropFirst(2))!
                let text = String(decoding: entry.value, as: UTF8.self)
                XCTAssertTrue(text == "v\(i)" || text.hasPrefix("v\(i)-round"), "\(entry.key) = \(text)")
            }
        }
    }

    func testTheCLIListsAPrefixARangeAndContinues() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let servers = ["--servers", cluster.servers.joined(separator: ",")]
        for key in ["a/1", "a/2", "a/3", "b/1"] {
            XCTAssertEqual(try CLIProcess.run(["put"] + servers + [key, "value of \(key)"]).status, 0)
        }
        var r = try CLIProcess.run(["scan"] + servers + ["a/"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.out, "a/1\tvalue of a/1\na/2\tvalue of a/2\na/3\tvalue of a/3\n")
        r = try CLIProcess.run(["scan"] + servers + ["--keys-only", "--from", "a/2", "--to", "b/2"])
        XCTAssertEqual(r.out, "a/2\na/3\nb/1\n")
        r = try CLIProcess.run(["scan"] + servers + ["--limit", "2", "--json", ""])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual((r.json?["entries"] as? [[String: Any]])?.compactMap { $0["key"] as? String }, ["a/1", "a/2"])
        XCTAssertEqual(r.json?["next"] as? String, "a/2")
        r = try CLIProcess.run(["scan"] + servers + ["--limit", "2", "--after", "a/2", ""])
        XCTAssertEqual(r.out, "a/3\tvalue of a/3\nb/1\tvalue of b/1\n")
        r = try CLIProcess.run(["scan"] + servers + ["--limit", "1", "a/"])
        XCTAssertTrue(r.stderr.contains("--after a/1"), r.stderr)
        r = try CLIProcess.run(["scan"] + servers + ["a/", "--from", "a"])
        XCTAssertEqual(r.status, 2, "a prefix and a range exclude each other")
    }

    /// chainkv_scan from C (pages, ranges, bad arguments, freeing) against a sharded cluster.
    func testTheCABIScansInPages() throws {
        let cluster = try ClusterFixture(size: 3, chains: 3)
        defer { cluster.stop() }
        let exe = try TestEnvironment.compileC("scan_test")
        let c = try TestEnvironment.run(exe, [cluster.servers.joined(separator: ",")])
        XCTAssertEqual(c.status, 0, c.output)
        XCTAssertTrue(c.output.contains("C ABI scans:") && c.output.contains(" 0 failed"), c.output)
    }

    func testServersWithoutTheKeyIndexRefuseScans() throws {
        let cluster = try ClusterFixture(size: 3, serverArguments: ["--key-index", "false"])
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        _ = try blockingTest { try await client.put("k", [1]) }
        XCTAssertThrowsError(try blockingTest { try await client.scan(prefix: "") }) { error in
            guard case ChainKVError.server(.refused, let text) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(text.contains("keyIndex"), text)
        }
    }
}

/// A flag one task sets and another polls.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}

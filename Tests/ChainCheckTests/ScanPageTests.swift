import XCTest
@testable import ChainCheck

/// Scan pages as reads: what a page covers, and the per-key check of what it saw.
final class ScanPageTests: XCTestCase {
    /// A page of prefix "k" (lower "k", upper "l").
    func page(_ entries: [(String, String)], after: String? = nil, next: String? = nil, limit: Int = 10,
              _ invoke: UInt64, _ complete: UInt64, number: Int = 0) -> ScanPage {
        ScanPage(number: number, client: 9, lower: bytes("k"), upper: bytes("l"), after: after, limit: limit,
                 entries: entries.enumerated().map { ScanPage.Entry(key: $1.0, value: bytes($1.1), version: UInt64($0 + 1)) },
                 next: next, invoke: invoke, complete: complete)
    }

    let keys = ["k1", "k2", "k3", "k10"]

    func verdict(_ h: HistoryBuilder, _ pages: [ScanPage]) -> CheckResult.Verdict {
        LinearizabilityChecker.check(h.operations + pages.flatMap { $0.observations(keys: keys) }).verdict
    }

    func testCoversTheRangeAfterAfterUpToNextInByteOrder() {
        let p = page([], after: "k1", next: "k2", 0, 1)
        // Byte order: "k1" < "k10" < "k2" < "k3".
        XCTAssertEqual(keys.filter { p.covers($0) }, ["k2", "k10"])
        XCTAssertEqual(page([], 0, 1).covers("k3"), true)
        XCTAssertEqual(page([], 0, 1).covers("j1"), false)
        XCTAssertEqual(page([], 0, 1).covers("l"), false)
    }

    func testObservationsAreTheEntriesAndTheCoveredKeysAbsent() {
        let obs = page([("k10", "a")], next: "k10", 5, 7, number: 3).observations(keys: keys)
        XCTAssertEqual(obs.sorted { $0.key < $1.key }, [
            Operation(id: 0, client: 9, key: "k1", kind: .get(value: nil), invoke: 5, complete: 7, page: 3),
            Operation(id: 0, client: 9, key: "k10", kind: .get(value: bytes("a")), invoke: 5, complete: 7, page: 3),
        ])
    }

    func testAValueOverwrittenBeforeTheScanBeganFails() {
        let h = HistoryBuilder(key: "k1")
        h.put(1, "a", old: nil, 0, 10)
        h.put(1, "b", old: "a", 20, 30)
        XCTAssertEqual(verdict(h, [page([("k1", "a")], 40, 50)]), .notLinearizable)
        XCTAssertEqual(verdict(h, [page([("k1", "b")], 40, 50)]), .linearizable)
    }

    func testMissingAKeyPutBeforeTheScanAndNeverDeletedFails() {
        let h = HistoryBuilder(key: "k3")
        h.put(1, "a", old: nil, 0, 10)
        XCTAssertEqual(verdict(h, [page([], 20, 30)]), .notLinearizable)
        // With a delete that may come first, absence is fine.
        h.delete(2, existed: true, 15, nil)
        XCTAssertEqual(verdict(h, [page([], 20, 30)]), .linearizable)
    }

    func testAKeyBeyondNextIsNotClaimedAbsent() {
        let h = HistoryBuilder(key: "k3")
        h.put(1, "a", old: nil, 0, 10)
        h.put(1, "x", old: nil, 0, 10, key: "k1")
        XCTAssertEqual(verdict(h, [page([("k1", "x")], next: "k1", limit: 1, 20, 30)]), .linearizable)
        // A later page that covers k3 (after k1, up to k3) and misses it fails.
        XCTAssertEqual(verdict(h, [page([], after: "k1", next: "k2", limit: 1, 40, 50)]), .linearizable)
        XCTAssertEqual(verdict(h, [page([], after: "k1", next: "k3", limit: 1, 40, 50)]), .notLinearizable)
        XCTAssertEqual(verdict(h, [page([], after: "k1", 40, 50)]), .notLinearizable)
    }

    func testAConcurrentWriteMayOrMayNotBeSeen() {
        let h = HistoryBuilder(key: "k1")
        h.put(1, "a", old: nil, 0, 10)
        h.put(2, "b", old: nil, 5, 40, key: "k2")
        XCTAssertEqual(verdict(h, [page([("k1", "a")], 20, 30, number: 0), page([("k1", "a"), ("k2", "b")], 25, 35, number: 1)]),
                       .linearizable)
    }

    func testDefects() {
        XCTAssertEqual(page([("k1", "a"), ("k2", "b")], next: "k2", limit: 2, 0, 1).defects, [])
        XCTAssertEqual(page([("k2", "a"), ("k10", "b")], 0, 1).defects.count, 1)  // "k10" sorts before "k2"
        XCTAssertEqual(page([("k1", "a"), ("k1", "b")], 0, 1).defects.count, 1)
        XCTAssertEqual(page([("k2", "a")], next: "k10", 0, 1).defects.count, 1)   // beyond next
        XCTAssertEqual(page([("k1", "a")], after: "k1", 0, 1).defects.count, 1)   // not after `after`
        XCTAssertEqual(page([("k1", "a"), ("k2", "b")], limit: 1, 0, 1).defects.count, 1)
        XCTAssertEqual(page([], after: "k2", next: "k10", 0, 1).defects.count, 1)  // no progress
    }

    func testHistoryFileRoundTripsScanReads() throws {
        let h = HistoryBuilder(key: "k1")
        h.put(1, "a", old: nil, 0, 10)
        var ops = h.operations + page([("k1", "a")], next: "k2", 20, 30, number: 4).observations(keys: keys).sorted { $0.key < $1.key }
        for i in ops.indices { ops[i].id = i }
        let text = HistoryFile.encode(ops)
        XCTAssertTrue(text.contains(#""op":"scan","value":null,"old":null,"existed":null,"ok":true,"invoke":20,"complete":30,"page":4}"#))
        XCTAssertFalse(HistoryFile.encode(h.operations).contains("page"))
        XCTAssertEqual(try HistoryFile.decode(text), ops)
    }

    func testHistoryFileRejectsAMisplacedOrMissingPage() {
        let scan = #"{"id":1,"client":1,"key":"k","op":"scan","value":null,"ok":true,"invoke":1,"complete":2"#
        XCTAssertNoThrow(try HistoryFile.decode(scan + #","page":0}"#))
        XCTAssertThrowsError(try HistoryFile.decode(scan + "}"))
        XCTAssertThrowsError(try HistoryFile.decode(scan.replacingOccurrences(of: "scan", with: "get") + #","page":0}"#))
        // An unknown-outcome scan read observed nothing: skipped, like a get.
        XCTAssertEqual(try HistoryFile.decode(scan.replacingOccurrences(of: "true", with: "null") + #","page":0}"#), [])
    }
}

import XCTest
@testable import ChainCore

/// Range reads at the head return committed state: writes in flight are hidden (their keys read
/// as committed), deleted keys in flight come back, and a page covers only what storage covered.
final class ReplicaRangeTests: XCTestCase {
    let view = ChainView(epoch: 1, members: ["a", "b"])
    func c(_ n: UInt64) -> ClientRef { ClientRef(connection: 1, request: n) }
    func vv(_ s: String, _ version: UInt64) -> VersionedValue { VersionedValue(Array(s.utf8), version: version) }
    func row(_ key: String, _ value: String, _ version: UInt64) -> RangeRow { RangeRow(key: key, value: vv(value, version)) }

    func head(lastSeq: UInt64 = 10) -> Replica {
        var r = Replica(id: "a", lastSeq: lastSeq)
        _ = r.on(.viewChanged(view))
        _ = r.on(.lease(until: 1000))
        _ = r.on(.successorLinkUp("b"))
        _ = r.on(.ack(from: "b", epoch: 1, seq: lastSeq))
        return r
    }

    func read(_ r: Replica, _ range: KeyRange = KeyRange(prefix: ""), stored: [RangeRow], complete: Bool = true,
              owns: (String) -> Bool = { _ in true }, limit: Int = 100) -> RangePage? {
        guard case .page(let page) = r.readRange(range, stored: stored, storedComplete: complete, owns: owns,
                                                 limit: limit, byteLimit: 1 << 20, now: 1) else { return nil }
        return page
    }

    func testWritesInFlightAreNotShown() {
        var a = head()
        // "b" is being changed, "c" created, "d" deleted: storage already holds the new state.
        _ = a.on(.clientWrite(c(1), key: "b", value: Array("B2".utf8), stored: vv("B1", 3), request: nil, ifVersion: nil))
        _ = a.on(.clientWrite(c(2), key: "c", value: Array("C".utf8), stored: nil, request: nil, ifVersion: nil))
        _ = a.on(.clientWrite(c(3), key: "d", value: nil, stored: vv("D", 4), request: nil, ifVersion: nil))
        let stored = [row("a", "A", 2), row("b", "B2", 11), row("c", "C", 12)]
        let page = read(a, stored: stored)
        XCTAssertEqual(page?.rows, [row("a", "A", 2), row("b", "B1", 3), row("d", "D", 4)])
        XCTAssertNil(page?.next)
        // Once committed, storage is the truth.
        _ = a.on(.persisted(through: 13))
        _ = a.on(.ack(from: "b", epoch: 1, seq: 13))
        XCTAssertEqual(read(a, stored: stored)?.rows, stored)
    }

    func testAnIncompleteStorePageCoversOnlyUpToItsLastKey() {
        var a = head()
        // A delete of "x" in flight: its committed value lies beyond the stored page's last key.
        _ = a.on(.clientWrite(c(1), key: "x", value: nil, stored: vv("X", 5), request: nil, ifVersion: nil))
        let page = read(a, stored: [row("a", "A", 1), row("m", "M", 2)], complete: false)
        XCTAssertEqual(page?.rows.map(\.key), ["a", "m"])
        XCTAssertEqual(page?.resumeAfter, "m")
        // The next page, from storage after "m" (which no longer holds "x"), brings it back.
        let next = read(a, page!.next!, stored: [row("z", "Z", 3)])
        XCTAssertEqual(next?.rows, [row("x", "X", 5), row("z", "Z", 3)])
        XCTAssertNil(next?.next)
    }

    func testRowsOfOtherChainsAndOutsideTheRangeAreLeftOut() {
        var a = head()
        _ = a.on(.clientWrite(c(1), key: "q/9", value: nil, stored: vv("Q", 5), request: nil, ifVersion: nil))
        _ = a.on(.clientWrite(c(2), key: "p/2", value: nil, stored: vv("P", 6), request: nil, ifVersion: nil))
        let page = read(a, KeyRange(prefix: "p/"), stored: [row("p/1", "1", 1), row("p/3", "3", 2)], owns: { $0 != "p/3" })
        XCTAssertEqual(page?.rows.map(\.key), ["p/1", "p/2"])
    }

    func testLimitCutsThePage() {
        let a = head()
        let stored = (1...5).map { row("k\($0)", "v", UInt64($0)) }
        let page = read(a, stored: stored, limit: 2)
        XCTAssertEqual(page?.rows.map(\.key), ["k1", "k2"])
        XCTAssertEqual(page?.resumeAfter, "k2")
        XCTAssertEqual(read(a, stored: Array(stored.prefix(2)), limit: 2)?.next, nil, "exactly the limit, nothing more: done")
    }

    /// "\u{E9}" and "e\u{301}" are one string to Swift and two keys to the store: a write in
    /// flight to one must not change what a read of the other returns.
    func testCanonicallyEquivalentKeysAreTwoKeys() {
        var a = head()
        let nfc = "\u{E9}", nfd = "e\u{301}"
        _ = a.on(.clientWrite(c(1), key: nfd, value: Array("new".utf8), stored: nil, request: nil, ifVersion: nil))
        XCTAssertEqual(a.read(nfc, stored: vv("X", 3), now: 1), .value(vv("X", 3)), "a point read of the other key")
        XCTAssertTrue(a.needsStoredValue(for: nfc))
        let page = read(a, stored: [row(nfd, "new", 11), row(nfc, "X", 3)])
        XCTAssertEqual(page?.rows, [row(nfc, "X", 3)], "the committed key stays; the one in flight is hidden")
        // A delete of one in flight: the other is shown with its own value, the deleted one with its committed one.
        var b = head()
        _ = b.on(.clientWrite(c(2), key: nfc, value: nil, stored: vv("E", 4), request: nil, ifVersion: nil))
        XCTAssertEqual(read(b, stored: [row(nfd, "D", 5)])?.rows, [row(nfd, "D", 5), row(nfc, "E", 4)])
    }

    func testOnlyAHeadWithALeaseAnswers() {
        var b = Replica(id: "b", lastSeq: 0)
        _ = b.on(.viewChanged(view))
        XCTAssertEqual(b.readRange(KeyRange(), stored: [], storedComplete: true, owns: { _ in true }, limit: 1, byteLimit: 1, now: 1),
                       .error(.notHead(head: "a")))
        let a = head()
        XCTAssertEqual(a.readRange(KeyRange(), stored: [], storedComplete: true, owns: { _ in true }, limit: 1, byteLimit: 1, now: 5000),
                       .error(.noLease))
    }
}

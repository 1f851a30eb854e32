import XCTest
@testable import ChainCheck

/// The single-instant check of scan pages: cases the per-key check passes.
final class ScanSnapshotsTests: XCTestCase {
    func read(_ key: String, _ value: String?, _ invoke: UInt64, _ complete: UInt64, page: Int = 0) -> Operation {
        Operation(id: 0, client: 9, key: key, kind: .get(value: value.map(bytes)), invoke: invoke, complete: complete, page: page)
    }

    func testANewValueOfOneKeyWithAnOverwrittenValueOfAnotherFails() {
        let h = HistoryBuilder()
        h.put(1, "a1", old: nil, 0, 10, key: "a")
        h.put(1, "b1", old: nil, 0, 10, key: "b")
        h.put(2, "a2", old: "a1", 20, 30, key: "a")   // a1 gone by 30
        h.put(3, "b2", old: "b1", 40, 50, key: "b")   // b2 not before 40
        let page = [read("a", "a1", 25, 60), read("b", "b2", 25, 60)]
        XCTAssertEqual(LinearizabilityChecker.check(h.operations + page).verdict, .linearizable)  // per key: fine
        XCTAssertEqual(ScanSnapshots.check(h.operations + page).map(\.page), [0])
        // Seeing a2 with b2, or a1 with b1, is one instant.
        XCTAssertEqual(ScanSnapshots.check(h.operations + [read("a", "a2", 25, 60), read("b", "b2", 25, 60)]), [])
        XCTAssertEqual(ScanSnapshots.check(h.operations + [read("a", "a1", 25, 60), read("b", "b1", 25, 60)]), [])
    }

    func testTwoAbsencesThatCannotHoldTogetherFail() {
        let h = HistoryBuilder()
        h.put(1, "a1", old: nil, 0, 10, key: "a")
        h.put(2, "b1", old: nil, 30, 40, key: "b")       // b not absent after 40
        h.delete(3, existed: true, 45, 50, key: "a")     // a not absent in (10, 45)
        let page = [read("a", nil, 20, 60), read("b", nil, 20, 60)]
        XCTAssertEqual(LinearizabilityChecker.check(h.operations + page).verdict, .linearizable)
        XCTAssertEqual(ScanSnapshots.check(h.operations + page).count, 1)
        // An unknown-outcome delete of a, invoked at 35, may make a absent before b's put.
        h.deleteUnknown(4, 35, key: "a")
        XCTAssertEqual(ScanSnapshots.check(h.operations + page), [])
    }

    func testUnknownWritesAndRepeatedValuesOnlyWeaken() {
        let h = HistoryBuilder()
        h.putUnknown(1, "a1", 0, key: "a")
        h.put(1, "b1", old: nil, 0, 10, key: "b")
        h.put(2, "a2", old: nil, 20, 30, key: "a")
        h.put(3, "b2", old: "b1", 40, 50, key: "b")
        // a1's put may take effect at any time (after a2, too): no bound from above.
        XCTAssertEqual(ScanSnapshots.check(h.operations + [read("a", "a1", 25, 60), read("b", "b2", 25, 60)]), [])
        h.put(4, "x", old: nil, 0, 5, key: "c")
        h.put(4, "y", old: "x", 6, 8, key: "c")
        h.put(5, "x", old: "y", 100, 110, key: "c")      // x written twice: bounded only by its first writer
        XCTAssertEqual(ScanSnapshots.check(h.operations + [read("c", "x", 25, 60), read("b", "b2", 25, 60)]), [])
    }

    func testInitialValuesCount() {
        let h = HistoryBuilder()
        h.put(1, "b1", old: nil, 30, 40, key: "b")
        let page = [read("a", nil, 20, 60), read("b", "b1", 20, 60)]
        XCTAssertEqual(ScanSnapshots.check(h.operations + page), [])
        // With a present from the start and never deleted, a cannot be absent after time 0.
        XCTAssertEqual(ScanSnapshots.check(h.operations + page, initial: ["a": bytes("a0")]).count, 1)
    }

    func testPagesAreCheckedSeparately() {
        let h = HistoryBuilder()
        h.put(1, "a1", old: nil, 0, 10, key: "a")
        h.put(2, "a2", old: "a1", 20, 30, key: "a")
        h.put(1, "b1", old: nil, 40, 50, key: "b")
        // Page 0 saw a1 early, page 1 saw b1 late: no contradiction across pages.
        XCTAssertEqual(ScanSnapshots.check(h.operations + [read("a", "a1", 15, 25, page: 0), read("b", "b1", 45, 60, page: 1)]), [])
    }

    func testSomeInstant() {
        XCTAssertTrue(ScanSnapshots.someInstant(from: 0, through: 10, avoiding: []))
        XCTAssertFalse(ScanSnapshots.someInstant(from: 5, through: 4, avoiding: []))
        XCTAssertFalse(ScanSnapshots.someInstant(from: 2, through: 8, avoiding: [(1, 9)]))
        XCTAssertTrue(ScanSnapshots.someInstant(from: 2, through: 9, avoiding: [(1, 9)]))   // 9 is outside (1, 9)
        XCTAssertTrue(ScanSnapshots.someInstant(from: 2, through: 8, avoiding: [(6, 9), (1, 5)]))  // 5 or 6
        XCTAssertFalse(ScanSnapshots.someInstant(from: 2, through: 8, avoiding: [(4, 9), (1, 5)]))
        XCTAssertTrue(ScanSnapshots.someInstant(from: 2, through: 8, avoiding: [(2, 9)]))  // 2 itself
    }
}

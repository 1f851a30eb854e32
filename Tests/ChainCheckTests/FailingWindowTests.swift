import XCTest
@testable import ChainCheck

final class FailingWindowTests: XCTestCase {
    private func window(_ h: HistoryBuilder, key: String = "k") throws -> FailingWindow {
        let result = LinearizabilityChecker.check(h.operations)
        XCTAssertEqual(result[key]?.verdict, .notLinearizable)
        return try XCTUnwrap(result[key]?.window)
    }

    func testStaleReadWindowHoldsTheOverwriteAndTheRead() throws {
        let h = HistoryBuilder()
        h.put(1, "v0", old: nil, 0, 1)
        h.put(1, "v1", old: "v0", 2, 3)
        h.get(3, "v1", 4, 5)
        h.put(1, "v2", old: "v1", 6, 7)
        let fresh = h.get(2, "v2", 8, 9)
        let stale = h.get(2, "v1", 10, 11)
        h.put(1, "v3", old: "v2", 12, 13)
        let w = try window(h)
        // Whatever the value was before, a read of v2 followed by a read of v1 with no write in
        // between is impossible: the two reads are the whole story.
        XCTAssertEqual(w.operations.map(\.id), [fresh, stale])
        XCTAssertTrue(w.inFlight.isEmpty)
        XCTAssertTrue(w.runningAtEnd.isEmpty)
        XCTAssertEqual(w.startValues, [nil, bytes("v0"), bytes("v1"), bytes("v2")])
        XCTAssertTrue(w.isMinimal)
        XCTAssertEqual(w.check(), .notLinearizable)
    }

    func testReadOfValueNeverWrittenIsAWindowByItself() throws {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 1)
        h.get(2, "a", 2, 3)
        let ghost = h.get(2, "ghost", 4, 5)
        h.get(2, "a", 6, 7)
        let w = try window(h)
        XCTAssertEqual(w.operations.map(\.id), [ghost])
        XCTAssertEqual(w.check(), .notLinearizable)
    }

    func testWrongOldValueWindow() throws {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 1)
        h.put(1, "b", old: "a", 2, 3)
        let wrong = h.put(2, "c", old: "a", 4, 5)
        let w = try window(h)
        XCTAssertEqual(w.operations.map(\.id), [wrong - 1, wrong])
        XCTAssertEqual(w.check(), .notLinearizable)
    }

    func testDeleteMissingWhileKeyExistsWindow() throws {
        let h = HistoryBuilder()
        let put = h.put(1, "a", old: nil, 0, 1)
        let delete = h.delete(2, existed: false, 2, 3)
        let w = try window(h)
        // From the start: with no earlier operation, the delete alone is fine from "absent".
        XCTAssertEqual(w.operations.map(\.id), [put, delete])
        XCTAssertEqual(w.startValues, [nil])
        XCTAssertEqual(w.check(), .notLinearizable)
    }

    func testInFlightAndRunningAtEndOperationsAreShown() throws {
        let h = HistoryBuilder()
        let slow = h.put(1, "a", old: nil, 0, 100)  // in flight for the whole window
        h.put(2, "b", old: "a", 10, 11)
        let culprit = h.get(3, "a", 20, 21)
        h.get(4, "b", 20, 40)  // concurrent with the culprit, so still running when it completes
        h.get(2, "b", 30, 31)
        let w = try window(h)
        XCTAssertTrue(w.operations.contains { $0.id == culprit })
        XCTAssertFalse(w.operations.contains { $0.id == slow })
        XCTAssertEqual(w.inFlight.map(\.id), [slow])
        XCTAssertEqual(w.check(), .notLinearizable)
        let table = w.table()
        XCTAssertTrue(table.contains("in flight at window start"), table)
    }

    func testTable() {
        let w = FailingWindow(
            key: "k",
            operations: [
                Operation(id: 7, client: 2, key: "k", kind: .put(value: bytes("v2"), old: bytes("v1")), invoke: 10, complete: 20),
                Operation(id: 8, client: 3, key: "k", kind: .get(value: [0xFF, 0x00]), invoke: 30, complete: 40),
                Operation(id: 9, client: 1, key: "k", kind: .putUnknown(value: bytes("x")), invoke: 35, complete: nil),
            ],
            inFlight: [], runningAtEnd: [1], startValues: [nil], isMinimal: true)
        let expected = """
            id  client  op    value             invoke  complete  note
            --  ------  ----  ----------------  ------  --------  ---------------------
            7   2       put   "v2" (old: "v1")  10      20
            8   3       get   0xff00            30      40        running at window end
            9   1       put?  "x"               35      ?
            """
        XCTAssertEqual(w.table(), expected)
    }

    /// On random small histories, checks the window against an independent brute-force search of
    /// every window: it fails, no window ending earlier fails, none ending there starts later.
    func testWindowIsTheSmallestOnRandomHistories() {
        var checked = 0
        for seed in 0..<1500 as Range<UInt64> {
            let ops = RandomHistory.arbitrary(operations: 3 + Int(seed % 5), clients: 3, seed: seed)
            let history = KeyHistory(key: "k", operations: ops, initial: nil)
            guard !BruteForce.isLinearizable(history.whole) else { continue }
            checked += 1
            let w = history.smallestFailingWindow(maxSteps: 1_000_000, deadline: nil)
            let start = history.operations.firstIndex { $0.id == w.operations.first!.id }!
            let end = start + w.operations.count
            XCTAssertTrue(w.isMinimal)
            XCTAssertFalse(BruteForce.isLinearizable(history.problem(start: start, end: end)), "seed \(seed)")
            XCTAssertFalse(BruteForce.isLinearizable(w.problem), "seed \(seed)")
            XCTAssertEqual(w.check(), .notLinearizable, "seed \(seed)")
            for a in 0...history.count {
                for b in a...history.count {
                    let fails = !BruteForce.isLinearizable(history.problem(start: a, end: b))
                    XCTAssertEqual(fails, LinearizationSearch.run(history.problem(start: a, end: b), budget: &unlimited) == .notLinearizable,
                                   "seed \(seed) window \(a)..<\(b)")
                    if fails {
                        XCTAssertGreaterThanOrEqual(b, end, "seed \(seed): \(a)..<\(b) fails and ends earlier")
                        if b == end { XCTAssertLessThanOrEqual(a, start, "seed \(seed): \(a)..<\(b) fails and starts later") }
                        // Monotone: every window containing a failing one fails.
                        if a > 0 { XCTAssertFalse(BruteForce.isLinearizable(history.problem(start: a - 1, end: b)), "seed \(seed)") }
                        if b < history.count { XCTAssertFalse(BruteForce.isLinearizable(history.problem(start: a, end: b + 1)), "seed \(seed)") }
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 500)
    }

    private var unlimited = SearchBudget(stepsLeft: .max, deadline: nil)
}

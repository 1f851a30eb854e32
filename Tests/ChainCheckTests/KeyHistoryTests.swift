import XCTest
@testable import ChainCheck

final class KeyHistoryTests: XCTestCase {
    func testSortsByInvocationAndDropsReadsOfUnknownOutcome() {
        let h = HistoryBuilder()
        h.get(1, "a", 5, 6)
        h.get(2, nil, 1, nil)  // dropped
        h.put(3, "a", old: nil, 0, 4)
        h.put(4, "b", old: "a", 5, nil)  // unknown outcome: a write of b
        let history = KeyHistory(key: "k", operations: h.operations, initial: nil)
        XCTAssertEqual(history.operations.map(\.id), [3, 1, 4])
        XCTAssertEqual(history.timed, [
            TimedOperation(op: .put(value: 1, old: 0), invoke: 0, complete: 4),
            TimedOperation(op: .get(value: 1), invoke: 5, complete: 6),
            TimedOperation(op: .write(value: 2), invoke: 5, complete: nil),
        ])
        XCTAssertEqual(history.whole.start, .exactly(0))
    }

    func testInitialValue() {
        let h = HistoryBuilder()
        h.get(1, "seed", 0, 1)
        let history = KeyHistory(key: "k", operations: h.operations, initial: bytes("seed"))
        XCTAssertEqual(history.whole.start, .exactly(1))
        XCTAssertEqual(history.startValues(at: 0), [bytes("seed")])
    }

    func testWindowMarksInFlightAndRunningAtEndOperationsOptional() {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 10)  // 0: in flight at 2
        h.put(2, "b", old: nil, 1, 1)   // 1: done before 2
        h.get(3, "a", 2, 3)             // 2: window start
        h.get(4, "a", 3, 20)            // 3: running at the end (5)
        h.putUnknown(5, "c", 4)         // 4: unknown
        h.get(6, "c", 5, 6)             // 5: after the window
        let history = KeyHistory(key: "k", operations: h.operations, initial: nil)
        let problem = history.problem(start: 2, end: 5)
        XCTAssertEqual(problem.operations, [
            TimedOperation(op: .put(value: 1, old: 0), invoke: 0, complete: 10, optional: true),
            TimedOperation(op: .get(value: 1), invoke: 2, complete: 3),
            TimedOperation(op: .get(value: 1), invoke: 3, complete: nil, optional: true),
            TimedOperation(op: .write(value: 3), invoke: 4, complete: nil),
        ])
        XCTAssertEqual(problem.start, .oneOf(members: [true, true, true, false], anyPresent: true))
        XCTAssertEqual(history.startValues(at: 2), [nil, bytes("a"), bytes("b")])
        XCTAssertEqual(history.inFlight(at: 2), [0])
        XCTAssertTrue(history.isRunningAtEnd(3, end: 5))
        XCTAssertFalse(history.isRunningAtEnd(2, end: 5))
        XCTAssertFalse(history.isRunningAtEnd(3, end: 6), "nothing runs past the end of the history")
        XCTAssertEqual(history.problem(start: 3, end: 3).operations, [])
    }

    func testWindowProblemMatchesTheFailingWindowsOwn() {
        let ops = RandomHistory.arbitrary(operations: 8, clients: 3, seed: 11)
        let history = KeyHistory(key: "k", operations: ops, initial: nil)
        for start in 0..<history.count {
            for end in (start + 1)...history.count {
                let window = history.window(start: start, end: end, isMinimal: true)
                var budget = SearchBudget(stepsLeft: .max, deadline: nil)
                var budget2 = SearchBudget(stepsLeft: .max, deadline: nil)
                XCTAssertEqual(LinearizationSearch.run(window.problem, budget: &budget),
                               LinearizationSearch.run(history.problem(start: start, end: end), budget: &budget2))
                XCTAssertEqual(window.problem.operations.count, history.problem(start: start, end: end).operations.count)
            }
        }
    }
}

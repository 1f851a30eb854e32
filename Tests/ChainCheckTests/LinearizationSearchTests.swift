import XCTest
@testable import ChainCheck

final class LinearizationSearchTests: XCTestCase {
    private func run(_ ops: [TimedOperation], start: StartState = .exactly(0), steps: Int = .max) -> SearchOutcome {
        var budget = SearchBudget(stepsLeft: steps, deadline: nil)
        return LinearizationSearch.run(SearchProblem(operations: ops, start: start), budget: &budget)
    }

    private func op(_ model: ModelOperation, _ invoke: UInt64, _ complete: UInt64?, optional: Bool = false) -> TimedOperation {
        TimedOperation(op: model, invoke: invoke, complete: complete, optional: optional)
    }

    func testEmptyAndUnknownOnlyProblemsAreLinearizable() {
        XCTAssertEqual(run([]), .linearizable)
        XCTAssertEqual(run([op(.write(value: 1), 0, nil), op(.erase, 1, nil)]), .linearizable)
        XCTAssertEqual(run([op(.get(value: 5), 0, nil, optional: true)]), .linearizable)
    }

    func testOptionalOperationsMayBeLeftOutButNotBrokenWhenPlaced() {
        // An optional put of 1 (old absent) is needed by the read; it must come by time 3.
        XCTAssertEqual(run([op(.put(value: 1, old: 0), 0, 3, optional: true), op(.get(value: 1), 1, 2)]), .linearizable)
        XCTAssertEqual(run([op(.put(value: 1, old: 0), 0, 3, optional: true), op(.get(value: 1), 4, 5)]), .linearizable)
        // Optional, but if placed it must be legal: here its old value is wrong, so it cannot help.
        XCTAssertEqual(run([op(.put(value: 1, old: 2), 0, 3, optional: true), op(.get(value: 1), 4, 5)]), .notLinearizable)
        // An optional read that cannot be placed is simply left out.
        XCTAssertEqual(run([op(.get(value: 7), 0, 3, optional: true), op(.get(value: 0), 4, 5)]), .linearizable)
    }

    func testUnknownWriteIsUsedWhenNeededAndOnlyAfterItsInvocation() {
        XCTAssertEqual(run([op(.write(value: 1), 0, nil), op(.get(value: 1), 5, 6)]), .linearizable)
        XCTAssertEqual(run([op(.write(value: 1), 7, nil), op(.get(value: 1), 5, 6)]), .notLinearizable)
        // Concurrent with the read: may go just before it.
        XCTAssertEqual(run([op(.write(value: 1), 6, nil), op(.get(value: 1), 5, 6)]), .linearizable)
    }

    func testEachUnknownOperationIsUsedAtMostOnce() {
        // Value 1, then absent, then 1 again needs two writes of 1.
        let reads = [op(.get(value: 1), 1, 2), op(.delete(existed: true), 3, 4), op(.get(value: 1), 5, 6)]
        XCTAssertEqual(run([op(.write(value: 1), 0, nil)] + reads), .notLinearizable)
        XCTAssertEqual(run([op(.write(value: 1), 0, nil), op(.write(value: 1), 0, nil)] + reads), .linearizable)
    }

    func testDeleteThatFoundTheKeyCanUseAnyWrite() {
        // Nobody reads 7 or 8: either write lets the delete find the key, but only one of them.
        let deletes = [op(.delete(existed: true), 1, 2), op(.delete(existed: true), 3, 4)]
        XCTAssertEqual(run([op(.write(value: 7), 0, nil)] + deletes), .notLinearizable)
        XCTAssertEqual(run([op(.write(value: 7), 0, nil), op(.write(value: 8), 0, nil)] + deletes), .linearizable)
        // A named write (someone reads 5) serves when no anonymous write is available yet...
        XCTAssertEqual(run([op(.write(value: 5), 0, nil), op(.write(value: 8), 2, nil),
                            op(.delete(existed: true), 0, 1), op(.get(value: 8), 3, 4),
                            op(.delete(existed: true), 5, 6), op(.get(value: 5), 7, 8)]), .notLinearizable)
        XCTAssertEqual(run([op(.write(value: 5), 0, nil), op(.write(value: 5), 0, nil), op(.write(value: 8), 2, nil),
                            op(.delete(existed: true), 0, 1), op(.get(value: 0), 3, 4),
                            op(.get(value: 5), 7, 8)]), .linearizable)
    }

    func testAnyStartLetsTheFirstOperationChoose() {
        let start = StartState.oneOf(members: [false, true, true], anyPresent: true)
        XCTAssertEqual(run([op(.get(value: 2), 0, 1)], start: start), .linearizable)
        XCTAssertEqual(run([op(.get(value: 0), 0, 1)], start: start), .notLinearizable)
        XCTAssertEqual(run([op(.get(value: 1), 0, 1), op(.get(value: 2), 2, 3)], start: start), .notLinearizable)
    }

    func testBudgetIsCountedInSteps() {
        let ops = (0..<20).map { op(.get(value: 0), UInt64($0), 100) } + [op(.get(value: 9), 200, 201)]
        XCTAssertEqual(run(ops, steps: 1000), .exhausted)
        var budget = SearchBudget(stepsLeft: 1000, deadline: nil)
        _ = LinearizationSearch.run(SearchProblem(operations: ops, start: .exactly(0)), budget: &budget)
        XCTAssertLessThan(budget.stepsLeft, 0)
    }

    func testFrontierIsWhereTheSearchGotStuck() {
        let ops = [op(.put(value: 1, old: 0), 0, 1), op(.get(value: 1), 2, 3), op(.get(value: 2), 4, 5), op(.get(value: 1), 6, 7)]
        var budget = SearchBudget(stepsLeft: .max, deadline: nil)
        let result = LinearizationSearch.runFindingFrontier(SearchProblem(operations: ops, start: .exactly(0)), budget: &budget)
        XCTAssertEqual(result.outcome, .notLinearizable)
        XCTAssertEqual(result.frontier, 5)
    }

    func testLongSequentialHistoryNeedsNoDeepStack() {
        // 200,000 operations one after another: a recursive search would need that many frames.
        var ops: [TimedOperation] = []
        for i in 0..<100_000 {
            let t = UInt64(4 * i)
            ops.append(op(.put(value: Int32(i + 1), old: Int32(i)), t, t + 1))
            ops.append(op(.get(value: Int32(i + 1)), t + 2, t + 3))
        }
        XCTAssertEqual(run(ops), .linearizable)
    }
}

import XCTest
@testable import ChainCheck

/// Conditional writes as the checker sees them, and histories of compare-and-set races.
final class ConditionalWriteTests: XCTestCase {
    let a = Array("a".utf8), b = Array("b".utf8), c = Array("c".utf8)

    func testEachOutcomeBecomesTheOperationItImplies() {
        XCTAssertEqual(ConditionalWrite(value: b, expected: a, outcome: .applied).operation, .put(value: b, old: a))
        XCTAssertEqual(ConditionalWrite(value: nil, expected: a, outcome: .applied).operation, .delete(existed: true))
        XCTAssertEqual(ConditionalWrite(value: nil, expected: nil, outcome: .applied).operation, .delete(existed: false))
        XCTAssertEqual(ConditionalWrite(value: b, expected: a, outcome: .failed(current: .known(c))).operation, .get(value: c))
        XCTAssertEqual(ConditionalWrite(value: b, expected: nil, outcome: .failed(current: .known(nil))).operation, .get(value: nil))
        XCTAssertNil(ConditionalWrite(value: b, expected: a, outcome: .failed(current: .unknown)).operation)
        XCTAssertEqual(ConditionalWrite(value: b, expected: a, outcome: .unknown).operation, .putUnknown(value: b))
        XCTAssertEqual(ConditionalWrite(value: nil, expected: a, outcome: .unknown).operation, .deleteUnknown)
    }

    private func check(_ writes: [(client: Int, ConditionalWrite, invoke: UInt64, complete: UInt64?)]) -> CheckResult.Verdict {
        var ops = [Operation(id: 0, client: 9, key: "k", kind: .put(value: a, old: nil), invoke: 0, complete: 1)]
        for (i, w) in writes.enumerated() {
            guard let kind = w.1.operation else { continue }
            ops.append(Operation(id: i + 1, client: w.client, key: "k", kind: kind, invoke: w.invoke,
                                 complete: w.1.outcome == .unknown ? nil : w.complete))
        }
        return LinearizabilityChecker.check(ops).verdict
    }

    func testOneWinnerPerRoundIsLinearizable() {
        XCTAssertEqual(check([
            (1, ConditionalWrite(value: b, expected: a, outcome: .applied), 2, 5),
            (2, ConditionalWrite(value: c, expected: a, outcome: .failed(current: .known(b))), 3, 6),
        ]), .linearizable)
    }

    func testTwoWinnersOnOneVersionAreNotLinearizable() {
        XCTAssertEqual(check([
            (1, ConditionalWrite(value: b, expected: a, outcome: .applied), 2, 5),
            (2, ConditionalWrite(value: c, expected: a, outcome: .applied), 3, 6),
        ]), .notLinearizable)
    }

    func testAFailureThatSawAValueNeverWrittenIsNotLinearizable() {
        XCTAssertEqual(check([
            (1, ConditionalWrite(value: b, expected: a, outcome: .failed(current: .known(c))), 2, 5),
        ]), .notLinearizable)
    }

    func testAFailureAfterTheWinnerCompletedMustSeeIt() {
        // The winner completed before the loser was invoked: the loser cannot report the old value.
        XCTAssertEqual(check([
            (1, ConditionalWrite(value: b, expected: a, outcome: .applied), 2, 3),
            (2, ConditionalWrite(value: c, expected: a, outcome: .failed(current: .known(a))), 4, 5),
        ]), .notLinearizable)
        XCTAssertEqual(check([
            (1, ConditionalWrite(value: b, expected: a, outcome: .unknown), 2, nil),
            (2, ConditionalWrite(value: c, expected: a, outcome: .failed(current: .known(b))), 4, 5),
        ]), .linearizable, "an unknown winner may have applied")
    }
}

import XCTest
@testable import ChainCheck

final class OperationTests: XCTestCase {
    func testUnknownOutcomeHasNoCompletion() {
        let op = Operation(id: 1, client: 1, key: "k", kind: .putUnknown(value: [1]), invoke: 5, complete: nil)
        XCTAssertNil(op.complete)
        XCTAssertEqual(op.kind, .putUnknown(value: [1]))
    }

    func testOutcomeIsKnownOnlyForCompletedReadsAndWrites() {
        func op(_ kind: Operation.Kind, _ complete: UInt64?) -> Operation {
            Operation(id: 1, client: 1, key: "k", kind: kind, invoke: 5, complete: complete)
        }
        XCTAssertTrue(op(.get(value: nil), 6).outcomeIsKnown)
        XCTAssertTrue(op(.put(value: [1], old: nil), 6).outcomeIsKnown)
        XCTAssertTrue(op(.delete(existed: true), 6).outcomeIsKnown)
        XCTAssertFalse(op(.get(value: nil), nil).outcomeIsKnown)
        XCTAssertFalse(op(.putUnknown(value: [1]), 6).outcomeIsKnown)
        XCTAssertFalse(op(.deleteUnknown, 6).outcomeIsKnown)
    }

    func testNormalizedKeepsOnlyWhatCanBeChecked() {
        func op(_ kind: Operation.Kind, _ complete: UInt64?) -> Operation {
            Operation(id: 1, client: 1, key: "k", kind: kind, invoke: 5, complete: complete)
        }
        let known = op(.put(value: [1], old: [2]), 6)
        XCTAssertEqual(known.normalized, known)
        XCTAssertEqual(op(.put(value: [1], old: [2]), nil).normalized, op(.putUnknown(value: [1]), nil))
        XCTAssertEqual(op(.putUnknown(value: [1]), 9).normalized, op(.putUnknown(value: [1]), nil))
        XCTAssertEqual(op(.delete(existed: false), nil).normalized, op(.deleteUnknown, nil))
        XCTAssertNil(op(.get(value: [1]), nil).normalized)
    }
}

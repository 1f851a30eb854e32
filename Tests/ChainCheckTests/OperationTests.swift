import XCTest
@testable import ChainCheck

final class OperationTests: XCTestCase {
    func testUnknownOutcomeHasNoCompletion() {
        let op = Operation(id: 1, client: 1, key: "k", kind: .putUnknown(value: [1]), invoke: 5, complete: nil)
        XCTAssertNil(op.complete)
        XCTAssertEqual(op.kind, .putUnknown(value: [1]))
    }
}

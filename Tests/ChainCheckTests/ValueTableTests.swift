import XCTest
@testable import ChainCheck

final class ValueTableTests: XCTestCase {
    func testInternsValuesWithAbsentAsZero() {
        var table = ValueTable()
        XCTAssertEqual(table.id(of: nil), ModelState.absent)
        XCTAssertEqual(table.id(of: bytes("a")), 1)
        XCTAssertEqual(table.id(of: []), 2)
        XCTAssertEqual(table.id(of: bytes("a")), 1)
        XCTAssertEqual(table.values, [nil, bytes("a"), []])
    }

    func testTimedOperations() {
        var table = ValueTable()
        let put = Operation(id: 1, client: 1, key: "k", kind: .put(value: bytes("a"), old: nil), invoke: 1, complete: 2)
        XCTAssertEqual(table.timed(put), TimedOperation(op: .put(value: 1, old: 0), invoke: 1, complete: 2))
        let unknown = Operation(id: 2, client: 1, key: "k", kind: .putUnknown(value: bytes("b")), invoke: 3, complete: nil)
        XCTAssertEqual(table.timed(unknown), TimedOperation(op: .write(value: 2), invoke: 3, complete: nil))
    }

    func testStartStates() {
        var table = ValueTable()
        XCTAssertEqual(table.startState(allowing: [bytes("a")]), .exactly(1))
        XCTAssertEqual(table.startState(allowing: [nil, bytes("b")]),
                       .oneOf(members: [true, false, true], anyPresent: true))
    }
}

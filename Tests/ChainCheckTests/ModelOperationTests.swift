import XCTest
@testable import ChainCheck

final class ModelOperationTests: XCTestCase {
    private let exact = StartState.exactly(0)

    func testTransitions() {
        XCTAssertEqual(exact.step(.get(value: 1), from: 1), 1)
        XCTAssertNil(exact.step(.get(value: 1), from: 2))
        XCTAssertEqual(exact.step(.put(value: 3, old: 1), from: 1), 3)
        XCTAssertNil(exact.step(.put(value: 3, old: 1), from: 0))
        XCTAssertEqual(exact.step(.delete(existed: true), from: 2), 0)
        XCTAssertNil(exact.step(.delete(existed: true), from: 0))
        XCTAssertEqual(exact.step(.delete(existed: false), from: 0), 0)
        XCTAssertNil(exact.step(.delete(existed: false), from: 2))
        XCTAssertEqual(exact.step(.write(value: 4), from: 2), 4)
        XCTAssertEqual(exact.step(.erase, from: 2), 0)
    }

    func testFromAnyStartTheFirstOperationPicksItsValue() {
        let absentOrTwo = StartState.oneOf(members: [true, false, true], anyPresent: true)
        let any = ModelState.anyStart
        XCTAssertEqual(absentOrTwo.initialState, any)
        XCTAssertEqual(absentOrTwo.step(.get(value: 2), from: any), 2)
        XCTAssertNil(absentOrTwo.step(.get(value: 1), from: any))
        XCTAssertEqual(absentOrTwo.step(.put(value: 1, old: 0), from: any), 1)
        XCTAssertNil(absentOrTwo.step(.put(value: 2, old: 1), from: any))
        XCTAssertEqual(absentOrTwo.step(.delete(existed: true), from: any), 0)
        XCTAssertEqual(absentOrTwo.step(.delete(existed: false), from: any), 0)
        let onlyPresent = StartState.oneOf(members: [false, true, true], anyPresent: true)
        XCTAssertNil(onlyPresent.step(.delete(existed: false), from: any))
        let onlyAbsent = StartState.oneOf(members: [true, false], anyPresent: false)
        XCTAssertNil(onlyAbsent.step(.delete(existed: true), from: any))
        XCTAssertEqual(onlyAbsent.step(.write(value: 1), from: any), 1)
    }

    func testEffectsAndOutcomes() {
        XCTAssertNil(ModelOperation.get(value: 1).effect)
        XCTAssertEqual(ModelOperation.put(value: 2, old: 1).effect, 2)
        XCTAssertEqual(ModelOperation.delete(existed: true).effect, ModelState.absent)
        XCTAssertEqual(ModelOperation.write(value: 3).effect, 3)
        XCTAssertTrue(ModelOperation.erase.isUnknown)
        XCTAssertFalse(ModelOperation.delete(existed: false).isUnknown)
    }
}

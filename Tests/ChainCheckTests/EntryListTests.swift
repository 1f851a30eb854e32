import XCTest
@testable import ChainCheck

final class EntryListTests: XCTestCase {
    private func contents(_ list: EntryList) -> [Int] {
        var out: [Int] = []
        var entry = list.first
        while entry >= 0 {
            out.append(entry)
            entry = list.after(entry)
        }
        return out
    }

    func testLiftAndUnliftInReverseOrderRestore() {
        var list = EntryList([0, 2, 1, 4, 3, 5], operationCount: 3)
        XCTAssertEqual(contents(list), [0, 2, 1, 4, 3, 5])
        list.lift(2)
        XCTAssertEqual(contents(list), [0, 1, 4, 5])
        list.lift(0)
        XCTAssertEqual(contents(list), [4, 5])
        list.lift(4)
        XCTAssertEqual(contents(list), [])
        list.unlift(4)
        list.unlift(0)
        XCTAssertEqual(contents(list), [0, 1, 4, 5])
        list.unlift(2)
        XCTAssertEqual(contents(list), [0, 2, 1, 4, 3, 5])
    }
}

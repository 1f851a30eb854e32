import XCTest
@testable import ChainCheck

final class UnknownPoolTests: XCTestCase {
    private func op(_ model: ModelOperation, _ invoke: UInt64) -> TimedOperation {
        TimedOperation(op: model, invoke: invoke, complete: model.isUnknown ? nil : invoke + 1)
    }

    func testChainsByEffectInInvocationOrder() {
        let ops = [
            op(.get(value: 1), 0),             // 0: needs value 1
            op(.write(value: 1), 5),           // 1
            op(.write(value: 1), 2),           // 2
            op(.erase, 3),                     // 3
            op(.write(value: 7), 1),           // 4: nobody needs 7: anonymous
            op(.write(value: 8), 0),           // 5: anonymous too
            op(.put(value: 9, old: 0), 0),     // 6: needs absent
        ]
        var pool = UnknownPool(ops)
        XCTAssertEqual(pool.count, 5)
        XCTAssertEqual(pool.usedIndex, [-1, 4, 2, 3, 1, 0, -1])

        XCTAssertEqual(pool.helperCount(for: .get(value: 1)), 1)
        let ones = pool.helperChain(for: .get(value: 1), 0)
        XCTAssertEqual(pool.next(inChain: ones), 2, "earliest invoked first")
        pool.use(chain: ones)
        XCTAssertEqual(pool.next(inChain: ones), 1)
        pool.use(chain: ones)
        XCTAssertNil(pool.next(inChain: ones))
        XCTAssertEqual(pool.unuse(chain: ones), 1)
        XCTAssertEqual(pool.next(inChain: ones), 1)

        XCTAssertEqual(pool.helperCount(for: .get(value: 9)), 0)
        XCTAssertEqual(pool.helperCount(for: .put(value: 9, old: 0)), 1)
        XCTAssertEqual(pool.next(inChain: pool.helperChain(for: .delete(existed: false), 0)), 3)

        // A delete that found the key can use the anonymous writes (first) or the writes of 1.
        XCTAssertEqual(pool.helperCount(for: .delete(existed: true)), 2)
        let anonymous = pool.helperChain(for: .delete(existed: true), 0)
        XCTAssertEqual(anonymous, pool.anonymousChain)
        XCTAssertEqual(pool.next(inChain: anonymous), 5)
        XCTAssertEqual(pool.helperChain(for: .delete(existed: true), 1), ones)
    }

    func testNoUnknownOperations() {
        let pool = UnknownPool([op(.get(value: 0), 0)])
        XCTAssertEqual(pool.count, 0)
        XCTAssertNil(pool.anonymousChain)
        XCTAssertEqual(pool.helperCount(for: .delete(existed: true)), 0)
    }
}

import XCTest
@testable import ChainCore

final class WriteOutcomeTests: XCTestCase {
    let r = RequestID(client: 3, seq: 4)

    func testAReplyIsKeptAndGivenBack() {
        for reply: Reply in [.put(old: nil, version: 9), .put(old: [1, 2], version: 9), .delete(existed: true, version: 9),
                             .delete(existed: false, version: 9), .conditionFailed(current: 0), .conditionFailed(current: 0x0102_0304_0506_0708)] {
            XCTAssertEqual(WriteOutcome(reply: reply, seq: 9, request: r).reply, reply)
        }
    }

    func testAnOldValueOverTheLimitIsNotKept() {
        let big = [UInt8](repeating: 1, count: CoreLimits.outcomeValueKeptMax + 1)
        let o = WriteOutcome(reply: .put(old: big, version: 9), seq: 9, request: r)
        XCTAssertEqual(o.kind, .putOldValueNotKept)
        XCTAssertNil(o.old)
        XCTAssertEqual(o.reply, .error(.oldValueNotKept))
    }

    func testAnOldValueMustMatchTheKind() {
        XCTAssertNil(WriteOutcome(seq: 1, request: r, kind: .putNewKey, old: [1]))
        XCTAssertNil(WriteOutcome(seq: 1, request: r, kind: .putOldValue, old: nil))
        XCTAssertNotNil(WriteOutcome(seq: 1, request: r, kind: .putOldValue, old: []))
        XCTAssertNil(WriteOutcome(seq: 1, request: r, kind: .conditionFailed, old: nil))
        XCTAssertNil(WriteOutcome(seq: 1, request: r, kind: .conditionFailed, old: [1, 2, 3]), "a version is exactly 8 bytes")
        XCTAssertEqual(WriteOutcome(seq: 1, request: r, kind: .conditionFailed, old: [0, 0, 0, 0, 0, 0, 1, 2])?.current, 258)
    }
}

import XCTest
@testable import ChainCore

final class WriteOutcomeTests: XCTestCase {
    let r = RequestID(client: 3, seq: 4)

    func testAReplyIsKeptAndGivenBack() {
        for reply: Reply in [.put(old: nil), .put(old: [1, 2]), .delete(existed: true), .delete(existed: false)] {
            XCTAssertEqual(WriteOutcome(reply: reply, seq: 9, request: r).reply, reply)
        }
    }

    func testAnOldValueOverTheLimitIsNotKept() {
        let big = [UInt8](repeating: 1, count: CoreLimits.outcomeValueKeptMax + 1)
        let o = WriteOutcome(reply: .put(old: big), seq: 9, request: r)
        XCTAssertEqual(o.kind, .putOldValueNotKept)
        XCTAssertNil(o.old)
        XCTAssertEqual(o.reply, .error(.oldValueNotKept))
    }

    func testAnOldValueMustMatchTheKind() {
        XCTAssertNil(WriteOutcome(seq: 1, request: r, kind: .putNewKey, old: [1]))
        XCTAssertNil(WriteOutcome(seq: 1, request: r, kind: .putOldValue, old: nil))
        XCTAssertNotNil(WriteOutcome(seq: 1, request: r, kind: .putOldValue, old: []))
    }
}

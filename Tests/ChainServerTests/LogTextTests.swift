import ChainWire
import XCTest
@testable import ChainServer

final class LogTextTests: XCTestCase {
    struct Refused: Error, CustomStringConvertible { var description: String { "connection refused" } }

    /// A peer's answer reads as words in a log line, never as Swift's description of the enum.
    func testAnswersReadAsWords() {
        XCTAssertEqual(LogText.answer(.success(.error(.refused, "not the tail of chain c0 in epoch 4"))),
                       "refused: not the tail of chain c0 in epoch 4")
        XCTAssertEqual(LogText.answer(.success(.ack(epoch: 1, seq: 2))), "ack")
        XCTAssertEqual(LogText.answer(.failure(Refused())), "no answer: connection refused")
        for text in [LogText.answer(.success(.error(.overloaded, "x"))), LogText.answer(.success(.dieAck))] {
            XCTAssertFalse(text.contains("ChainWire.") || text.contains("success(") || text.contains("Optional("), text)
        }
    }
}

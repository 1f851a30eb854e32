import XCTest
@testable import ChainCheck

final class HexTests: XCTestCase {
    func testRoundTrip() {
        let all = (0...255).map { UInt8($0) }
        XCTAssertEqual(Hex.encode([0x00, 0x0F, 0xA0, 0xFF]), "000fa0ff")
        XCTAssertEqual(Hex.decode(Hex.encode(all).utf8), all)
        XCTAssertEqual(Hex.decode("".utf8), [])
    }

    func testDecodeAcceptsEitherCaseAndRejectsTheRest() {
        XCTAssertEqual(Hex.decode("aBcD".utf8), [0xAB, 0xCD])
        XCTAssertNil(Hex.decode("abc".utf8))
        XCTAssertNil(Hex.decode("0g".utf8))
        XCTAssertNil(Hex.decode(" 0".utf8))
    }
}

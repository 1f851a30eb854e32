import XCTest
@testable import ChainCheck

final class ValueTextTests: XCTestCase {
    func testPrintableValuesAreQuoted() {
        XCTAssertEqual(ValueText.describe(bytes("v1")), "\"v1\"")
        XCTAssertEqual(ValueText.describe([]), "\"\"")
        XCTAssertEqual(ValueText.describe(nil), "absent")
    }

    func testOtherValuesAreHex() {
        XCTAssertEqual(ValueText.describe([0xFF, 0x00]), "0xff00")
        // Quotes and backslashes would make the quoted form ambiguous.
        XCTAssertEqual(ValueText.describe(bytes("a\"b")), "0x612262")
    }

    func testLongValuesAreCutShort() {
        XCTAssertEqual(ValueText.describe(Array(repeating: UInt8(ascii: "a"), count: 40)),
                       "\"" + String(repeating: "a", count: 32) + "\"…(40 bytes)")
        XCTAssertEqual(ValueText.describe([UInt8](repeating: 1, count: 33)),
                       "0x" + String(repeating: "01", count: 32) + "…(33 bytes)")
    }
}

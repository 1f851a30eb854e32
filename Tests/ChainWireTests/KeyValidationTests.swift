import XCTest
@testable import ChainWire

final class KeyValidationTests: XCTestCase {
    func testRefusesEmptyOverlongAndNULKeys() {
        XCTAssertNil(KeyValidation.check("k"))
        XCTAssertNil(KeyValidation.check(String(repeating: "a", count: WireLimits.keySizeMax)))
        XCTAssertEqual(KeyValidation.check(""), .invalidKey("empty"))
        XCTAssertEqual(KeyValidation.check(String(repeating: "a", count: WireLimits.keySizeMax + 1)),
                       .keyTooLarge(WireLimits.keySizeMax + 1))
        XCTAssertEqual(KeyValidation.check("a\u{0}b"), .invalidKey("contains a NUL byte"))
        XCTAssertEqual(KeyValidation.check(String(repeating: "a", count: 300) + "\u{0}"), .invalidKey("contains a NUL byte"))
        // Multi-byte characters count by UTF-8 bytes.
        XCTAssertNil(KeyValidation.check(String(repeating: "é", count: WireLimits.keySizeMax / 2)))
        XCTAssertNotNil(KeyValidation.check(String(repeating: "é", count: WireLimits.keySizeMax / 2 + 1)))
    }
}

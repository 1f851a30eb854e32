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

    /// The byte form (what `MessageCodec.readKey` checks in the receive buffer) gives the same
    /// answer as the string form for every case above.
    func testBytesAndStringsGetTheSameAnswer() {
        let keys = ["k", "", "a\u{0}b", String(repeating: "a", count: 300) + "\u{0}", "\u{0}",
                    String(repeating: "a", count: WireLimits.keySizeMax), String(repeating: "a", count: WireLimits.keySizeMax + 1),
                    String(repeating: "é", count: WireLimits.keySizeMax / 2 + 1)]
        for key in keys {
            let bytes = Array(key.utf8)
            XCTAssertEqual(bytes.withUnsafeBytes { KeyValidation.check(utf8: $0) }, KeyValidation.check(key), key.debugDescription)
        }
    }
}

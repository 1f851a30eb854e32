import XCTest
@testable import ChainCheck

final class JSONLineTests: XCTestCase {
    private func parse(_ text: String) throws -> [(name: String, value: JSONScalar)] {
        try JSONLine.parseObject(Array(text.utf8)[...])
    }

    func testScalars() throws {
        let members = try parse(#" {"s":"a\"\\\/\b\f\n\r\t\u00e9\ud83e\udd8a","i":-12,"z":0,"t":true,"f":false,"n":null} "#)
        XCTAssertEqual(members.map(\.name), ["s", "i", "z", "t", "f", "n"])
        XCTAssertEqual(members.map(\.value), [
            .string("a\"\\/\u{8}\u{C}\n\r\té🦊"), .integer(negative: true, magnitude: 12),
            .integer(negative: false, magnitude: 0), .bool(true), .bool(false), .null,
        ])
        XCTAssertEqual(try parse("{}").count, 0)
        XCTAssertEqual(try parse(#"{"m":18446744073709551615}"#).first?.value,
                       .integer(negative: false, magnitude: .max))
    }

    func testRejects() {
        for bad in [#"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, #"{"a":[1]}"#, #"{"a":-}"#, #"{"a":18446744073709551616}"#,
                    #"{"a":"\udc00"}"#, #"{"a":"\ud800\u0041"}"#, "", "{", #"{"a":1}{}"#, #"{"a":nul}"#] {
            XCTAssertThrowsError(try parse(bad), bad)
        }
    }

    func testQuoteRoundTrips() throws {
        let text = "a\"b\\c\nd\u{0}e\u{1F}f/é🦊"
        let quoted = JSONLine.quote(text)
        XCTAssertEqual(quoted, #""a\"b\\c\nd\u0000e\u001ff/é🦊""#)
        XCTAssertEqual(try parse("{\"k\":\(quoted)}").first?.value, .string(text))
    }

    func testUTF8Validation() {
        XCTAssertTrue(isValidUTF8(Array("é🦊".utf8)))
        XCTAssertFalse(isValidUTF8([0xC0, 0x80]))  // overlong
        XCTAssertFalse(isValidUTF8([0xED, 0xA0, 0x80]))  // a surrogate
        XCTAssertFalse(isValidUTF8([0xF4, 0x90, 0x80, 0x80]))  // past U+10FFFF
        XCTAssertFalse(isValidUTF8([0xE2, 0x82]))  // truncated
    }
}

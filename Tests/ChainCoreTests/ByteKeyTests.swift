import XCTest
@testable import ChainCore

final class ByteKeyTests: XCTestCase {
    func testCanonicallyEquivalentKeysAreDifferentKeys() {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        XCTAssertEqual(composed, decomposed)  // Swift's String equality
        XCTAssertNotEqual(ByteKey(composed), ByteKey(decomposed))
        var pending: [ByteKey: Int] = [ByteKey(composed): 1]
        pending[ByteKey(decomposed)] = 2
        XCTAssertEqual(pending.count, 2)
    }

    func testEqualBytesAreEqualKeysHoweverTheStringWasBuilt() {
        let literal = "key-0042"
        let built = String(["k", "e", "y", "-"] as [Character]) + String(42 + 10_000).dropFirst()
        let fromBytes = String(decoding: Array("key-0042".utf8), as: UTF8.self)
        XCTAssertEqual(ByteKey(literal), ByteKey(built))
        XCTAssertEqual(ByteKey(literal), ByteKey(fromBytes))
        XCTAssertEqual(ByteKey(literal).hashValue, ByteKey(built).hashValue)
        XCTAssertEqual(ByteKey(""), ByteKey(String()))
        XCTAssertNotEqual(ByteKey("key-0042"), ByteKey("key-0043"))
        XCTAssertNotEqual(ByteKey("key-004"), ByteKey("key-0042"))
        // Long keys (not stored inline in the String) compare by bytes too.
        let long = String(repeating: "x", count: 500)
        XCTAssertEqual(ByteKey(long), ByteKey(String(repeating: "x", count: 499) + "x"))
        XCTAssertNotEqual(ByteKey(long), ByteKey(String(repeating: "x", count: 499) + "y"))
    }
}

import ChainCore
import XCTest

final class FNV1aTests: XCTestCase {
    /// The published FNV-1a 64-bit test vectors: slots and row ids depend on these never changing.
    func testPublishedVectors() {
        XCTAssertEqual(FNV1a.hash(""), 0xCBF2_9CE4_8422_2325)
        XCTAssertEqual(FNV1a.hash("a"), 0xAF63_DC4C_8601_EC8C)
        XCTAssertEqual(FNV1a.hash("foobar"), 0x8594_4171_F739_67E8)
    }

    /// A long key of multi-byte characters hashes its UTF-8 bytes, and its slot follows.
    func testAStringOfManyBytesHashesItsUTF8() {
        let key = String(repeating: "é-ключ-", count: 40)
        var expected: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in Array(key.utf8) {
            expected ^= UInt64(byte)
            expected = expected &* 0x0000_0100_0000_01B3
        }
        XCTAssertEqual(FNV1a.hash(key), expected)
        XCTAssertEqual(SlotMap.slot(of: key), Int(expected % UInt64(SlotMap.slotCount)))
    }
}

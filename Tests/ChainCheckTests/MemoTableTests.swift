import XCTest
@testable import ChainCheck

final class MemoTableTests: XCTestCase {
    /// Inserts `done` with bit `extra`, computing `base` and `end` as the search does (no
    /// unknown-outcome operations).
    private func insert(_ memo: inout MemoTable, hash: UInt64, state: Int32, done: [UInt64], extra: Int,
                        used: [UInt64] = [], extraUsed: Int = -1) -> Bool {
        var words = done
        words[extra >> 6] |= 1 << UInt64(extra & 63)
        let base = words.firstIndex { $0 != .max } ?? words.count
        let end = (words.lastIndex { $0 != 0 } ?? -1) + 1
        return memo.insert(hash: hash, state: state, done: done, extra: extra, base: base, end: end,
                           used: used, extraUsed: extraUsed)
    }

    func testRemembersDoneSetAndState() {
        var memo = MemoTable(usedWords: 0)
        let bits: [UInt64] = [0, 0]
        XCTAssertTrue(insert(&memo, hash: 1, state: 0, done: bits, extra: 3))
        XCTAssertFalse(insert(&memo, hash: 1, state: 0, done: bits, extra: 3))
        XCTAssertTrue(insert(&memo, hash: 1, state: 1, done: bits, extra: 3))
        XCTAssertTrue(insert(&memo, hash: 1, state: 0, done: bits, extra: 70), "same hash, other set")
        XCTAssertFalse(insert(&memo, hash: 1, state: 0, done: [0, 1 << 6], extra: 70), "bit 70 already set")
        XCTAssertEqual(memo.count, 3)
    }

    func testCompressedFormIsCanonical() {
        // The same set reached with a different bit as `extra` is the same entry.
        var memo = MemoTable(usedWords: 0)
        let full: UInt64 = .max
        XCTAssertTrue(insert(&memo, hash: 9, state: 2, done: [full, full, 0b101, 0], extra: 129))
        XCTAssertFalse(insert(&memo, hash: 9, state: 2, done: [full, full, 0b110, 0], extra: 128))
        XCTAssertTrue(insert(&memo, hash: 9, state: 2, done: [full, full, 0b110, 0], extra: 192))
        // All ones but for the extra bit.
        XCTAssertTrue(insert(&memo, hash: 5, state: 2, done: [full, full ^ 1], extra: 64))
        XCTAssertFalse(insert(&memo, hash: 5, state: 2, done: [full ^ 2, full], extra: 1))
    }

    func testFewerUsedUnknownsCover() {
        var memo = MemoTable(usedWords: 1)
        XCTAssertTrue(insert(&memo, hash: 1, state: 0, done: [0], extra: 0, used: [0b0110]))
        XCTAssertFalse(insert(&memo, hash: 1, state: 0, done: [0], extra: 0, used: [0b0100], extraUsed: 1), "same set")
        XCTAssertFalse(insert(&memo, hash: 1, state: 0, done: [0], extra: 0, used: [0b1110]), "a superset")
        XCTAssertTrue(insert(&memo, hash: 1, state: 0, done: [0], extra: 0, used: [0b0011]), "incomparable")
        XCTAssertTrue(insert(&memo, hash: 1, state: 0, done: [0], extra: 0, used: [0b0010]), "a subset")
        // The subset replaced both: now everything containing bit 1 is covered, and nothing else.
        XCTAssertFalse(insert(&memo, hash: 1, state: 0, done: [0], extra: 0, used: [0b1010]))
        XCTAssertTrue(insert(&memo, hash: 1, state: 0, done: [0], extra: 0, used: [0b0000]))
    }

    func testGrows() {
        var memo = MemoTable(usedWords: 0)
        for k in 0..<10_000 {
            XCTAssertTrue(insert(&memo, hash: splitMix64(UInt64(k)), state: Int32(k % 7), done: [UInt64(k), 0], extra: 100))
        }
        for k in 0..<10_000 {
            XCTAssertFalse(insert(&memo, hash: splitMix64(UInt64(k)), state: Int32(k % 7), done: [UInt64(k), 0], extra: 100))
        }
        XCTAssertEqual(memo.count, 10_000)
    }
}

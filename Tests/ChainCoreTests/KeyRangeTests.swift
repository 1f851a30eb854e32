import XCTest
@testable import ChainCore

/// Key ranges in byte order: bounds, prefixes, continuation, and the merge of chains' pages.
final class KeyRangeTests: XCTestCase {
    func testPrefixHoldsExactlyTheKeysThatStartWithIt() {
        let r = KeyRange(prefix: "user/")
        XCTAssertTrue(r.contains("user/"))
        XCTAssertTrue(r.contains("user/zzz"))
        XCTAssertFalse(r.contains("user"))
        XCTAssertFalse(r.contains("user0"), "'0' follows '/' in byte order")
        XCTAssertFalse(r.contains("usex"))
        XCTAssertEqual(r.upper, Array("user0".utf8))
        XCTAssertNil(KeyRange(prefix: "").upper, "the empty prefix holds every key")
        XCTAssertTrue(KeyRange(prefix: "").contains("anything"))
    }

    func testPrefixEndingInTheLargestASCIICharacter() {
        // 0x7F + 1 = 0x80 is no UTF-8 on its own: bounds are bytes, not keys.
        let r = KeyRange(prefix: "a\u{7F}")
        XCTAssertEqual(r.upper, [0x61, 0x80])
        XCTAssertTrue(r.contains("a\u{7F}b"))
        XCTAssertFalse(r.contains("a\u{80}"), "U+0080 is C2 80 in UTF-8, after 61 80")
        XCTAssertEqual(KeyRange.successor(ofPrefix: [0x61, 0xFF, 0xFF]), [0x62])
        XCTAssertNil(KeyRange.successor(ofPrefix: [0xFF]))
    }

    func testByteOrderIsNotSwiftStringOrder() {
        // "é" decomposed (65 CC 81) and precomposed (C3 A9) are one string to Swift; in byte
        // order, as SQLite's index keeps them, they are two keys far apart.
        XCTAssertTrue(KeyRange.less("e\u{301}", "\u{E9}"))
        XCTAssertFalse(KeyRange.less("\u{E9}", "e\u{301}"))
        XCTAssertTrue(KeyRange(from: "e", to: "f").contains("e\u{301}"))
        XCTAssertFalse(KeyRange(from: "e", to: "f").contains("\u{E9}"))
    }

    func testResumingStartsJustAfterTheKey() {
        let r = KeyRange(from: "b", to: "d").resuming(after: "bb")
        XCTAssertFalse(r.contains("bb"))
        XCTAssertTrue(r.contains("bb\u{1}"))
        XCTAssertTrue(r.contains("bc"))
        XCTAssertEqual(r.upper, Array("d".utf8))
        XCTAssertEqual(KeyRange(from: "m").resuming(after: "a"), KeyRange(from: "m"), "never goes back")
        XCTAssertTrue(KeyRange(from: "b", to: "d").resuming(after: "d").isEmpty)
        XCTAssertFalse(KeyRange(from: "b", to: "d").isEmpty)
    }

    func row(_ key: String, _ version: UInt64 = 1) -> RangeRow {
        RangeRow(key: key, value: VersionedValue(Array(key.utf8), version: version))
    }

    func testMergeKeepsOnlyKeysBelowTheLeastAdvancedChain() {
        let range = KeyRange(prefix: "")
        // Chain 1 stopped after "c" (more follow), chain 2 is done.
        let one = RangePage(rows: [row("a"), row("c")], next: range.resuming(after: "c"))
        let two = RangePage(rows: [row("b"), row("d"), row("e")], next: nil)
        let page = RangePage.merge([one, two], range: range, limit: 10)
        XCTAssertEqual(page.rows.map(\.key), ["a", "b", "c"], "d and e wait until chain 1 has reported up to them")
        XCTAssertEqual(page.resumeAfter, "c")
        let rest = RangePage.merge([RangePage(rows: [row("f")], next: nil), RangePage(rows: [row("d"), row("e")], next: nil)],
                                   range: page.next!, limit: 10)
        XCTAssertEqual(rest.rows.map(\.key), ["d", "e", "f"])
        XCTAssertNil(rest.next)
    }

    func testMergeCutsAtTheLimit() {
        let range = KeyRange(from: "a", to: "z")
        let page = RangePage.merge([RangePage(rows: [row("a"), row("c")], next: nil), RangePage(rows: [row("b"), row("d")], next: nil)],
                                   range: range, limit: 3)
        XCTAssertEqual(page.rows.map(\.key), ["a", "b", "c"])
        XCTAssertEqual(page.resumeAfter, "c")
        XCTAssertEqual(page.next?.upper, Array("z".utf8), "the end of the range is kept")
    }

    func testMergeOfEmptyPagesThatStoppedEarlyStillAdvances() {
        let range = KeyRange(prefix: "")
        let page = RangePage.merge([RangePage(rows: [], next: range.resuming(after: "m")), RangePage(rows: [], next: nil)],
                                   range: range, limit: 5)
        XCTAssertEqual(page.rows, [])
        XCTAssertEqual(page.resumeAfter, "m")
    }
}

import ChainCore
@testable import ChainStorage
import XCTest

/// Range reads in byte order through the key index, spilled keys (hash collisions) included.
final class StoreRangeTests: XCTestCase {
    func store(collide: Bool = false) throws -> Store {
        let path = try makeTemporaryDirectory(self).appendingPathComponent("range.sqlite").path
        // Colliding: every key that ends in 7 takes one row id, so all but one of them spill.
        let slot: (String) -> Int64 = { key in KeySlot.of(collide && key.hasSuffix("7") ? "seven" : key) }
        let store = try Store(path: path, cacheKiB: 1024, slotOf: slot)
        try store.setKeyIndex(true)
        return store
    }

    /// Every page of `range`, `limit` rows at a time, as the server's head reads it.
    func readAll(_ store: Store, _ range: KeyRange, limit: Int, byteLimit: Int = 1 << 20) throws -> [String] {
        var keys: [String] = []
        var rest = range
        while true {
            let (rows, complete) = try store.rows(in: rest, limit: limit, byteLimit: byteLimit)
            XCTAssertLessThanOrEqual(rows.count, limit)
            keys += rows.map(\.key)
            if complete { return keys }
            rest = rest.resuming(after: rows.last!.key)
        }
    }

    func testPagesOfAPrefixAndOfARangeInByteOrder() throws {
        for collide in [false, true] {
            let store = try store(collide: collide)
            let keys = (0..<500).map { "user/\($0)" } + ["user", "user0", "usex", "a", "\u{E9}", "e\u{301}", "z"]
            try store.apply(keys.enumerated().map { StoredUpdate(seq: UInt64($0.offset + 1), key: $0.element, value: [1, 2]) })
            let sorted = keys.sorted { KeyRange.less($0, $1) }
            XCTAssertEqual(try readAll(store, KeyRange(prefix: "user/"), limit: 7), sorted.filter { $0.hasPrefix("user/") })
            XCTAssertEqual(try readAll(store, KeyRange(prefix: ""), limit: 1000), sorted)
            XCTAssertEqual(try readAll(store, KeyRange(from: "user/42", to: "user/5"), limit: 3),
                           sorted.filter { KeyRange(from: "user/42", to: "user/5").contains($0) })
            XCTAssertEqual(try readAll(store, KeyRange(from: "e", to: "f"), limit: 3), ["e\u{301}"], "byte order, not Swift's")
            XCTAssertEqual(try readAll(store, KeyRange(from: "b", to: "b"), limit: 3), [])
        }
    }

    func testVersionsAndValuesComeWithTheRows() throws {
        let store = try store()
        try store.apply([StoredUpdate(seq: 1, key: "k1", value: [1]), StoredUpdate(seq: 2, key: "k2", value: [2]),
                         StoredUpdate(seq: 3, key: "k1", value: [3]), StoredUpdate(seq: 4, key: "k3", value: nil)])
        let (rows, complete) = try store.rows(in: KeyRange(prefix: "k"), limit: 10, byteLimit: 100)
        XCTAssertTrue(complete)
        XCTAssertEqual(rows, [RangeRow(key: "k1", value: VersionedValue([3], version: 3)), RangeRow(key: "k2", value: VersionedValue([2], version: 2))])
    }

    func testTheByteLimitEndsAPageAfterAtLeastOneRow() throws {
        let store = try store()
        try store.apply((0..<10).map { StoredUpdate(seq: UInt64($0 + 1), key: "k\($0)", value: [UInt8](repeating: 7, count: 100)) })
        let (rows, complete) = try store.rows(in: KeyRange(), limit: 10, byteLimit: 250)
        XCTAssertEqual(rows.count, 3, "102, 204, 306 bytes: the third row reaches the limit")
        XCTAssertFalse(complete)
        XCTAssertEqual(try store.rows(in: KeyRange(), limit: 10, byteLimit: 1).rows.count, 1)
        XCTAssertEqual(try readAll(store, KeyRange(), limit: 10, byteLimit: 250).count, 10)
    }

    func testTheKeyIndexIsBuiltForExistingRowsAndDropped() throws {
        let path = try makeTemporaryDirectory(self).appendingPathComponent("index.sqlite").path
        let store = try Store(path: path)
        try store.apply((0..<100).map { StoredUpdate(seq: UInt64($0 + 1), key: "k\($0)", value: [1]) })
        XCTAssertFalse(try store.hasKeyIndex())
        XCTAssertTrue(try store.setKeyIndex(true))
        XCTAssertFalse(try store.setKeyIndex(true), "already there")
        XCTAssertTrue(try store.hasKeyIndex())
        XCTAssertEqual(try readAll(store, KeyRange(prefix: "k9"), limit: 4), ["k9"] + (90..<100).map { "k\($0)" })
        XCTAssertTrue(try store.setKeyIndex(false))
        XCTAssertFalse(try store.hasKeyIndex())
        try store.apply([StoredUpdate(seq: 101, key: "k100", value: [1])])
        XCTAssertEqual(try store.count(), 101, "writes go on without it")
    }
}

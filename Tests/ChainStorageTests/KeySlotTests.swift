import CSQLite
import ChainCore
@testable import ChainStorage
import XCTest

final class KeySlotTests: XCTestCase {
    /// The slot function is part of the file format: these values must never change.
    func testSlotsAreFNV1aCutTo62Bits() {
        XCTAssertEqual(KeySlot.of(""), 0x0BF2_9CE4_8422_2325)
        XCTAssertEqual(KeySlot.of("a"), 0x2F63_DC4C_8601_EC8C)
        XCTAssertEqual(KeySlot.of("key-é"), 0x1471_AD34_C967_12DB)
    }

    /// A scan of a range of hash slots (a key's `SlotMap` slot: FNV-1a-64 modulo 4096, the low 12
    /// bits of its row id) returns exactly the rows of those slots, spilled ones included.
    func testAScanOfSomeHashSlotsReturnsExactlyTheirRows() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory.appendingPathComponent("slots.sqlite").path
        // Every key of one hash slot collides in the row id too: the spill table takes the rest.
        let collide: (String) -> Int64 = { key in KeySlot.of(key.hasPrefix("same") ? "same" : key) }
        let store = try Store(path: path, cacheKiB: 1024, slotOf: collide)
        let keys = (0..<3000).map { "key-\($0)" } + (0..<5).map { "same-\($0)" }
        try store.apply(keys.enumerated().map { StoredUpdate(seq: UInt64($0.offset + 1), key: $0.element, value: Array($0.element.utf8)) })
        func slot(_ key: String) -> Int { Store.hashSlot(ofRowID: collide(key)) }
        for range in [0...4095, 100...900, 4000...4095, 7...7, slot("same")...slot("same")] {
            var found: [String] = []
            var cursor = ScanCursor.start
            while case let page = try store.scan(after: cursor, limit: 50, byteLimit: 1 << 20, hashSlots: range), !page.rows.isEmpty {
                found += page.rows.map(\.key)
                cursor = page.next
            }
            XCTAssertEqual(found.sorted(), keys.filter { range.contains(slot($0)) }.sorted(), "slots \(range)")
            XCTAssertEqual(Set(found).count, found.count, "each row once")
        }
        for key in keys + ["", "é", String(repeating: "z", count: 1024)] {
            XCTAssertEqual(Store.hashSlot(ofRowID: KeySlot.of(key)), SlotMap.slot(of: key), "the store's hash slot is the slot map's: \(key)")
        }
        store.close()
    }

    /// Random puts and deletes over a few keys with a slot function that collides all the time,
    /// against a dictionary: every get, the row count, a full scan and a reopen agree with it,
    /// and the spill invariant (a spilled key's slot is held by another key) holds throughout.
    func testCollidingKeysAgreeWithAModel() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory.appendingPathComponent("collide.sqlite").path
        let slot: (String) -> Int64 = { Int64($0.utf8.reduce(0) { $0 + Int($1) } % 3) }
        var store = try Store(path: path, cacheKiB: 1024, slotOf: slot)
        let keys = (0..<12).map { "k\($0)" } + ["", "é"]
        var model: [String: [UInt8]] = [:]
        var random = pseudoRandomBytes(count: 40_000, seed: 99).makeIterator()
        var seq: UInt64 = 0
        for round in 0..<2_000 {
            var batch: [StoredUpdate] = []
            for _ in 0..<Int(random.next()! % 4 + 1) {
                let key = keys[Int(random.next()!) % keys.count]
                seq += 1
                if random.next()! % 3 == 0 {
                    batch.append(StoredUpdate(seq: seq, key: key, value: nil))
                    model[key] = nil
                } else {
                    let value = [UInt8(truncatingIfNeeded: round), random.next()!]
                    batch.append(StoredUpdate(seq: seq, key: key, value: value))
                    model[key] = value
                }
            }
            try store.apply(batch)
            for key in keys {
                XCTAssertEqual(try store.get(key), model[key], "round \(round), key \(key)")
            }
            XCTAssertEqual(try store.count(), model.count, "round \(round)")
            try assertSpillInvariant(path, slot: slot)
            if round % 500 == 499 {
                store.close()
                store = try Store(path: path, cacheKiB: 1024, slotOf: slot)
            }
        }
        var scanned: [String: [UInt8]] = [:]
        var cursor = ScanCursor.start
        while case let page = try store.scan(after: cursor, limit: 3, byteLimit: 1 << 20), !page.rows.isEmpty {
            for row in page.rows {
                XCTAssertNil(scanned[row.key], "scan returned \(row.key) twice")
                scanned[row.key] = row.value
            }
            cursor = page.next
        }
        XCTAssertEqual(scanned, model)
        XCTAssertEqual(try store.allRows(limit: 100).map(\.key), model.keys.sorted(by: utf8Less))
    }

    /// Every spilled key is filed under its own slot, and that slot is held in `kv` by another key.
    private func assertSpillInvariant(_ path: String, slot: (String) -> Int64, file: StaticString = #filePath, line: UInt = #line) throws {
        var handle: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &handle), SQLITE_OK)
        let db = try XCTUnwrap(handle)
        defer { sqlite3_close(db) }
        var statement: OpaquePointer?
        let sql = """
            SELECT s.key, s.id, (SELECT kv.key FROM kv WHERE kv.id = s.id) FROM kv_spill s
            """
        XCTAssertEqual(sqlite3_prepare_v2(db, sql, -1, &statement, nil), SQLITE_OK)
        defer { sqlite3_finalize(statement) }
        while sqlite3_step(statement) == SQLITE_ROW {
            let key = String(cString: sqlite3_column_text(statement, 0))
            XCTAssertEqual(sqlite3_column_int64(statement, 1), slot(key), "spilled \(key) filed under another slot", file: file, line: line)
            guard let holder = sqlite3_column_text(statement, 2) else {
                XCTFail("spilled \(key) while its slot is empty", file: file, line: line)
                continue
            }
            XCTAssertNotEqual(String(cString: holder), key, "\(key) both in its slot and spilled", file: file, line: line)
        }
    }
}

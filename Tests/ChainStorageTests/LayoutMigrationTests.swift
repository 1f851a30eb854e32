import CSQLite
@testable import ChainStorage
import XCTest

/// Databases written before the `kv` table became a rowid table (it was `WITHOUT ROWID`) must open
/// with every row, `last_seq`, the epoch and the stored outcomes intact.
final class LayoutMigrationTests: XCTestCase {
    /// Writes a database the way the old layout did, with plain SQL through libsqlite3.
    private func writeOldLayout(at path: String, rows: [(String, [UInt8], Int64)]) throws {
        var handle: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &handle), SQLITE_OK)
        let db = try XCTUnwrap(handle)
        defer { sqlite3_close(db) }
        func exec(_ sql: String) {
            XCTAssertEqual(sqlite3_exec(db, sql, nil, nil, nil), SQLITE_OK, String(cString: sqlite3_errmsg(db)))
        }
        exec("PRAGMA page_size=8192")
        exec("PRAGMA journal_mode=WAL")
        exec("""
            CREATE TABLE kv(key TEXT PRIMARY KEY, value BLOB NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            CREATE TABLE outcomes(seq INTEGER PRIMARY KEY, client INTEGER NOT NULL,
                request INTEGER NOT NULL, kind INTEGER NOT NULL, old BLOB);
            INSERT INTO meta VALUES ('last_seq', 900), ('epoch', 4);
            INSERT INTO outcomes VALUES (900, 11, 12, 1, NULL);
            """)
        exec("BEGIN")
        var statement: OpaquePointer?
        XCTAssertEqual(sqlite3_prepare_v2(db, "INSERT INTO kv VALUES (?1, ?2, ?3)", -1, &statement, nil), SQLITE_OK)
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (key, value, seq) in rows {
            sqlite3_bind_text(statement, 1, key, -1, transient)
            value.withUnsafeBytes { _ = sqlite3_bind_blob(statement, 2, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), transient) }
            sqlite3_bind_int64(statement, 3, seq)
            XCTAssertEqual(sqlite3_step(statement), SQLITE_DONE)
            sqlite3_reset(statement)
        }
        sqlite3_finalize(statement)
        exec("COMMIT")
    }

    /// Rows of `sql` (one text column) through libsqlite3, bypassing the store.
    private func texts(_ path: String, _ sql: String) throws -> [String] {
        var handle: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &handle), SQLITE_OK)
        let db = try XCTUnwrap(handle)
        defer { sqlite3_close(db) }
        var statement: OpaquePointer?
        XCTAssertEqual(sqlite3_prepare_v2(db, sql, -1, &statement, nil), SQLITE_OK, sql)
        defer { sqlite3_finalize(statement) }
        var rows: [String] = []
        while sqlite3_step(statement) == SQLITE_ROW {
            rows.append(String(cString: sqlite3_column_text(statement, 0)))
        }
        return rows
    }

    private func kvTableSQL(_ path: String) throws -> String {
        var handle: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &handle), SQLITE_OK)
        let db = try XCTUnwrap(handle)
        defer { sqlite3_close(db) }
        var statement: OpaquePointer?
        XCTAssertEqual(sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE name = 'kv'", -1, &statement, nil), SQLITE_OK)
        defer { sqlite3_finalize(statement) }
        XCTAssertEqual(sqlite3_step(statement), SQLITE_ROW)
        return String(cString: sqlite3_column_text(statement, 0))
    }

    func testOldWithoutRowidDatabaseOpensWithEveryRowAndMeta() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory.appendingPathComponent("old.sqlite").path
        let rows = (0..<500).map { index in
            ("key-\(index)", pseudoRandomBytes(count: index * 7 % 1500, seed: UInt64(index)), Int64(index + 1))
        }
        try writeOldLayout(at: path, rows: rows)
        XCTAssertTrue(try kvTableSQL(path).uppercased().contains("WITHOUT ROWID"))

        let store = try Store(path: path)
        XCTAssertFalse(try kvTableSQL(path).uppercased().contains("WITHOUT ROWID"), "the table was not converted")
        XCTAssertEqual(try store.lastSeq(), 900)
        XCTAssertEqual(try store.epoch(), 4)
        XCTAssertEqual(try store.count(), rows.count)
        for (key, value, _) in rows {
            XCTAssertEqual(try store.get(key), value, key)
        }
        XCTAssertEqual(try store.outcome(seq: 900)?.request.client, 11)
        XCTAssertEqual(try texts(path, "SELECT name FROM sqlite_master WHERE name = '\(Store.oldLayoutTable)'"), [], "the old table is left")
        let seqs = try texts(path, "SELECT key || '=' || seq FROM kv UNION ALL SELECT key || '=' || seq FROM kv_spill")
        XCTAssertEqual(Set(seqs), Set(rows.map { "\($0.0)=\($0.2)" }), "seq columns changed")
        let sorted = rows.map(\.0).sorted(by: utf8Less)
        XCTAssertEqual(try store.allRows(limit: 1000).map(\.key), sorted)

        // Writes go on where they left off, and a second connection opens the converted file.
        try store.apply([StoredUpdate(seq: 901, key: "key-1", value: [1, 2, 3]), StoredUpdate(seq: 902, key: "new", value: [4])])
        let second = try Store(path: path)
        XCTAssertEqual(try second.get("key-1"), [1, 2, 3])
        XCTAssertEqual(try second.get("new"), [4])
        XCTAssertEqual(try second.lastSeq(), 902)
        store.close()
        second.close()
        let reopened = try Store(path: path)
        XCTAssertEqual(try reopened.count(), rows.count + 1)
    }

    /// Old rows whose slots collide are converted too: one into the slot, the rest into kv_spill.
    func testConversionFilesCollidingKeysInTheSpillTable() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory.appendingPathComponent("old.sqlite").path
        let rows = (0..<40).map { ("key-\($0)", [UInt8($0)], Int64($0 + 1)) }
        try writeOldLayout(at: path, rows: rows)
        let slot: (String) -> Int64 = { Int64($0.utf8.count % 2) }  // two slots for 40 keys
        let store = try Store(path: path, cacheKiB: 1024, slotOf: slot)
        XCTAssertEqual(try store.count(), 40)
        for (key, value, _) in rows { XCTAssertEqual(try store.get(key), value, key) }
        XCTAssertEqual(try texts(path, "SELECT count(*) FROM kv"), ["2"])
        XCTAssertEqual(try texts(path, "SELECT count(*) FROM kv_spill"), ["38"])
    }
}

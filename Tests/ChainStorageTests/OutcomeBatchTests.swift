import CSQLite
import ChainCore
@testable import ChainStorage
import XCTest

/// Outcomes stored one row per commit (`OutcomeBatch`), and databases written one row per write
/// before that.
final class OutcomeBatchTests: XCTestCase {
    private func outcome(_ seq: UInt64, _ kind: WriteOutcome.Kind = .putNewKey, old: [UInt8]? = nil) -> WriteOutcome {
        WriteOutcome(seq: seq, request: RequestID(client: 9, seq: seq + 100), kind: kind, old: old)!
    }

    private func count(_ store: Store, _ sql: String) throws -> Int64 {
        let statement = try Statement(db: store.db!, sql: sql)
        defer { statement.finalize() }
        XCTAssertTrue(try statement.step())
        return statement.int64(0)
    }

    private func execute(_ path: String, _ sql: String) throws {
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        defer { sqlite3_close(db) }
        XCTAssertEqual(sqlite3_exec(db, sql, nil, nil, nil), SQLITE_OK, String(cString: sqlite3_errmsg(db)))
    }

    func testEncodingRoundTripsAndRejectsDamage() throws {
        let outcomes = [outcome(1), outcome(2, .putOldValue, old: [1, 2, 3]), outcome(3, .putOldValue, old: []),
                        outcome(4, .conditionFailed, old: [0, 0, 0, 0, 0, 0, 0, 7]), outcome(UInt64(Int64.max), .deleteAbsent)]
        var body: [UInt8] = []
        for o in outcomes { OutcomeBatch.append(o, to: &body) }
        XCTAssertEqual(try OutcomeBatch.decode(body), outcomes)
        XCTAssertEqual(try OutcomeBatch.decode([]), [])
        XCTAssertThrowsError(try OutcomeBatch.decode(Array(body.dropLast())), "cut short")
        var unknownKind = body
        unknownKind[24] = 200
        XCTAssertThrowsError(try OutcomeBatch.decode(unknownKind))
        var wrongSize: [UInt8] = []
        OutcomeBatch.append(outcome(5), to: &wrongSize)
        wrongSize[24] = WriteOutcome.Kind.conditionFailed.rawValue
        wrongSize += [0, 0, 0, 2, 1, 1]  // a version must be 8 bytes
        XCTAssertThrowsError(try OutcomeBatch.decode(wrongSize))
    }

    func testACommitStoresItsOutcomesInOneRow() throws {
        let store = try Store(path: try makeTemporaryDirectory(self).appendingPathComponent("db").path)
        try store.apply((1...50).map { StoredUpdate(seq: $0, key: "k\($0)", value: [1], outcome: $0 == 7 ? nil : outcome($0)) })
        try store.apply([StoredUpdate(seq: 51, key: "x", value: [2])])
        try store.apply([StoredUpdate(seq: 52, key: "k1", value: [3], outcome: outcome(52, .putOldValue, old: [1]))])
        XCTAssertEqual(try count(store, "SELECT count(*) FROM outcome_batches"), 2, "a commit without outcomes adds no row")
        let kept = try store.outcomes(afterSeq: 0, limit: 100)
        XCTAssertEqual(kept.map(\.seq), Array(1...6) + Array(8...50) + [52])
        XCTAssertEqual(try store.outcomes(afterSeq: 6, limit: 2).map(\.seq), [8, 9], "paged inside a row")
        XCTAssertEqual(try store.outcome(seq: 52), outcome(52, .putOldValue, old: [1]))
        XCTAssertNil(try store.outcome(seq: 7))
    }

    func testADamagedRowIsAnErrorNotACrash() throws {
        let path = try makeTemporaryDirectory(self).appendingPathComponent("db").path
        try Store(path: path).apply([StoredUpdate(seq: 1, key: "k", value: [1], outcome: outcome(1))])
        try execute(path, "UPDATE outcome_batches SET body = x'0102'")
        XCTAssertThrowsError(try Store(path: path).outcomes(afterSeq: 0, limit: 10))
    }

    /// A database written before outcomes were batched keeps one `outcomes` row per write: its
    /// outcomes are moved at open, so retries after the upgrade are still recognized; rows of
    /// `outcome_batches` from before a downgrade are dropped.
    func testTheOneRowPerWriteTableIsMigratedAtOpen() throws {
        let path = try makeTemporaryDirectory(self).appendingPathComponent("db").path
        try Store(path: path).apply([StoredUpdate(seq: 3, key: "k", value: [1])])
        try execute(path, """
            CREATE TABLE outcomes(seq INTEGER PRIMARY KEY, client INTEGER NOT NULL, request INTEGER NOT NULL, kind INTEGER NOT NULL, old BLOB);
            INSERT INTO outcomes VALUES (1, 9, 101, 0, NULL), (2, -1, 102, 1, x'0a0b'), (3, 9, 103, 5, x'0000000000000001');
            INSERT INTO outcome_batches VALUES (2, x'0102');
            """)  // that row: left from before a downgrade to a build that wrote `outcomes` again
        let store = try Store(path: path)
        XCTAssertEqual(try store.outcomes(afterSeq: 0, limit: 10), [
            outcome(1),
            WriteOutcome(seq: 2, request: RequestID(client: UInt64.max, seq: 102), kind: .putOldValue, old: [10, 11])!,
            outcome(3, .conditionFailed, old: [0, 0, 0, 0, 0, 0, 0, 1]),
        ])
        XCTAssertEqual(try count(store, "SELECT count(*) FROM sqlite_master WHERE name = 'outcomes'"), 0, "the old table is gone")
        store.close()
        XCTAssertEqual(try Store(path: path).outcomes(afterSeq: 0, limit: 10).count, 3, "a second open finds nothing to move")
    }
}

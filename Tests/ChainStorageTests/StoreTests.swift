import ChainStorage
import Foundation
import XCTest

final class StoreTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    private func databasePath(_ name: String = "store.db") -> String {
        directory.appendingPathComponent(name).path
    }

    private func put(_ store: Store, _ seq: UInt64, _ key: String, _ value: [UInt8]?) throws {
        try store.apply([StoredUpdate(seq: seq, key: key, value: value)])
    }

    func testNewDatabaseIsEmpty() throws {
        let store = try Store(path: databasePath())
        XCTAssertEqual(try store.lastSeq(), 0)
        XCTAssertEqual(try store.epoch(), 0)
        XCTAssertEqual(try store.count(), 0)
        XCTAssertNil(try store.get("missing"))
        XCTAssertTrue(try store.allRows(limit: 10).isEmpty)
        XCTAssertTrue(try store.scan(after: .start, limit: 10, byteLimit: 100).rows.isEmpty)
    }

    func testPutGetDeleteRoundTripOfBinaryValues() throws {
        let store = try Store(path: databasePath())
        let longKey = String(repeating: "k", count: 1024)
        let values: [(String, [UInt8])] = [
            ("empty", []),
            ("zero", [0]),
            ("binary", [0, 255, 0, 1, 0x80, 0xFE, 0]),
            ("all-bytes", (0 ... 255).map { UInt8($0) }),
            ("one-mebibyte", pseudoRandomBytes(count: 1 << 20, seed: 1)),
            (longKey, pseudoRandomBytes(count: 100, seed: 2)),
            ("ключ 🔑", [1, 2, 3]),
            ("nul\u{0}inside", [4, 5]),
            ("", [6]),
        ]
        var seq: UInt64 = 0
        for (key, value) in values {
            seq += 1
            try put(store, seq, key, value)
        }
        XCTAssertEqual(try store.count(), values.count)
        for (key, value) in values {
            XCTAssertEqual(try store.get(key), value, "key \(key.prefix(20))")
        }
        XCTAssertNil(try store.get("nul"), "a key with a NUL must not be truncated")

        // Overwrite, then delete.
        seq += 1
        try put(store, seq, "binary", [9, 9])
        XCTAssertEqual(try store.get("binary"), [9, 9])
        seq += 1
        try put(store, seq, "binary", nil)
        XCTAssertNil(try store.get("binary"))
        seq += 1
        try put(store, seq, "empty", nil)
        XCTAssertNil(try store.get("empty"), "deleting an empty value must remove the key, not leave it empty")
        XCTAssertEqual(try store.count(), values.count - 2)
        XCTAssertEqual(try store.lastSeq(), seq)

        // Deleting a missing key is not an error and still advances last_seq.
        seq += 1
        try put(store, seq, "never-existed", nil)
        XCTAssertEqual(try store.lastSeq(), seq)
    }

    func testApplyIsOrderedWithinABatchAndSetsLastSeq() throws {
        let store = try Store(path: databasePath())
        try store.apply([
            StoredUpdate(seq: 1, key: "a", value: [1]),
            StoredUpdate(seq: 2, key: "b", value: [2]),
            StoredUpdate(seq: 3, key: "a", value: [3]),
            StoredUpdate(seq: 4, key: "b", value: nil),
            StoredUpdate(seq: 7, key: "c", value: [7]),
        ])
        XCTAssertEqual(try store.lastSeq(), 7)
        XCTAssertEqual(try store.get("a"), [3])
        XCTAssertNil(try store.get("b"))
        XCTAssertEqual(try store.get("c"), [7])

        try store.apply([])
        XCTAssertEqual(try store.lastSeq(), 7, "an empty batch changes nothing")

        try store.apply([StoredUpdate(seq: 8, key: "d", value: [8])])
        XCTAssertEqual(try store.lastSeq(), 8)
    }

    func testApplyRejectsASeqNotAboveLastSeqAndChangesNothing() throws {
        let store = try Store(path: databasePath())
        try put(store, 5, "a", [1])
        XCTAssertThrowsError(try store.apply([
            StoredUpdate(seq: 5, key: "b", value: [2]),
            StoredUpdate(seq: 6, key: "c", value: [3]),
        ])) { error in
            XCTAssertTrue("\(error)".contains("not above last_seq 5"), "\(error)")
        }
        XCTAssertEqual(try store.lastSeq(), 5)
        XCTAssertNil(try store.get("b"))
        XCTAssertNil(try store.get("c"))
        // The store is still usable: the failed transaction was rolled back.
        try put(store, 6, "b", [2])
        XCTAssertEqual(try store.get("b"), [2])
    }

    /// `apply` remembers the last_seq it committed instead of reading it per batch; a reset, on
    /// this connection or through another one, must still be seen by the next batch.
    func testApplySeesLastSeqChangedByAResetOnThisOrAnotherConnection() throws {
        let path = databasePath()
        let writer = try Store(path: path)
        try put(writer, 5, "a", [1])
        try put(writer, 6, "b", [2])

        try writer.reset(lastSeq: 100)
        XCTAssertThrowsError(try put(writer, 50, "c", [3])) { error in
            XCTAssertTrue("\(error)".contains("not above last_seq 100"), "\(error)")
        }
        try put(writer, 101, "c", [3])

        let other = try Store(path: path)
        try other.reset(lastSeq: 200)
        XCTAssertThrowsError(try put(writer, 150, "d", [4])) { error in
            XCTAssertTrue("\(error)".contains("not above last_seq 200"), "\(error)")
        }
        try put(other, 201, "d", [4])
        XCTAssertThrowsError(try put(writer, 201, "e", [5])) { error in
            XCTAssertTrue("\(error)".contains("not above last_seq 201"), "\(error)")
        }
        try put(writer, 202, "e", [5])
        XCTAssertEqual(try other.lastSeq(), 202)
        XCTAssertEqual(try other.get("e"), [5])

        // A plain batch through another connection while this one remembers its last_seq (202).
        try put(other, 203, "f", [6])
        XCTAssertThrowsError(try put(writer, 203, "g", [7])) { error in
            XCTAssertTrue("\(error)".contains("not above last_seq 203"), "\(error)")
        }
        XCTAssertNil(try other.get("g"))
    }

    func testReopenKeepsDataAndMeta() throws {
        let path = databasePath()
        let big = pseudoRandomBytes(count: 1 << 20, seed: 3)
        do {
            let store = try Store(path: path)
            try store.apply([
                StoredUpdate(seq: 10, key: "x", value: big),
                StoredUpdate(seq: 11, key: "y", value: []),
                StoredUpdate(seq: 12, key: "z", value: [1]),
                StoredUpdate(seq: 13, key: "z", value: nil),
            ])
            try store.setEpoch(4)
            store.close()
            store.close() // idempotent
            XCTAssertThrowsError(try store.get("x"), "a closed store must refuse calls")
        }
        let reopened = try Store(path: path)
        XCTAssertEqual(try reopened.lastSeq(), 13)
        XCTAssertEqual(try reopened.epoch(), 4)
        XCTAssertEqual(try reopened.count(), 2)
        XCTAssertEqual(try reopened.get("x"), big)
        XCTAssertEqual(try reopened.get("y"), [])
        XCTAssertNil(try reopened.get("z"))
    }

    func testReopenWithoutCloseKeepsCommittedData() throws {
        // Dropping the last reference closes the connection in deinit.
        let path = databasePath()
        try {
            let store = try Store(path: path)
            try store.apply([StoredUpdate(seq: 1, key: "k", value: [1])])
        }()
        XCTAssertEqual(try Store(path: path).get("k"), [1])
    }

    func testSetEpoch() throws {
        let store = try Store(path: databasePath())
        try store.setEpoch(1)
        XCTAssertEqual(try store.epoch(), 1)
        try store.setEpoch(99)
        XCTAssertEqual(try store.epoch(), 99)
        XCTAssertEqual(try store.lastSeq(), 0, "epoch and last_seq are separate")
    }

    private func fill(_ store: Store, count: Int) throws -> [(key: String, value: [UInt8])] {
        var updates: [StoredUpdate] = []
        for index in 0 ..< count {
            // Varying lengths, and keys whose UTF-8 order differs from their numeric order.
            let key = index % 7 == 0 ? "é-\(index)" : "key-\(index)"
            updates.append(StoredUpdate(seq: UInt64(index + 1), key: key,
                                        value: pseudoRandomBytes(count: index % 50, seed: UInt64(index))))
        }
        try store.apply(updates)
        return updates.map { (key: $0.key, value: $0.value!) }.sorted { utf8Less($0.key, $1.key) }
    }

    private func scanAll(_ store: Store, limit: Int, byteLimit: Int) throws -> (rows: [(key: String, value: [UInt8])], pages: Int) {
        var rows: [(key: String, value: [UInt8])] = []
        var cursor = ScanCursor.start
        var pages = 0
        while true {
            let page = try store.scan(after: cursor, limit: limit, byteLimit: byteLimit)
            if page.rows.isEmpty { break }
            pages += 1
            XCTAssertLessThanOrEqual(page.rows.count, limit)
            let bytesBeforeLast = page.rows.dropLast().reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
            XCTAssertLessThan(bytesBeforeLast, byteLimit, "the page went on after reaching byteLimit")
            rows += page.rows.map { (key: $0.key, value: $0.value) }
            cursor = page.next
            XCTAssertLessThan(pages, 10_000, "scan does not make progress")
            if pages >= 10_000 { break }
        }
        // Scans go in slot order; compare as sets of rows, in key order.
        return (rows.sorted { utf8Less($0.key, $1.key) }, pages)
    }

    private func assertSameRows(_ actual: [(key: String, value: [UInt8])], _ expected: [(key: String, value: [UInt8])],
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.map(\.key), expected.map(\.key), file: file, line: line)
        XCTAssertEqual(actual.map(\.value), expected.map(\.value), file: file, line: line)
    }

    func testScanPagingByRowLimitCoversEveryRowOnce() throws {
        let store = try Store(path: databasePath())
        let expected = try fill(store, count: 1_000)
        let (rows, pages) = try scanAll(store, limit: 64, byteLimit: .max)
        assertSameRows(rows, expected)
        XCTAssertEqual(pages, (1_000 + 63) / 64)
        XCTAssertEqual(Set(rows.map(\.key)).count, 1_000)
    }

    func testScanPagingByByteLimitCoversEveryRowOnce() throws {
        let store = try Store(path: databasePath())
        let expected = try fill(store, count: 1_000)
        let total = expected.reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
        let (rows, pages) = try scanAll(store, limit: 1_000, byteLimit: 2_000)
        assertSameRows(rows, expected)
        XCTAssertGreaterThanOrEqual(pages, total / (2_000 + 60), "byteLimit must cut pages")
        XCTAssertLessThanOrEqual(pages, total / 2_000 + 1)
    }

    func testScanWithTinyByteLimitStillReturnsOneRowPerPage() throws {
        let store = try Store(path: databasePath())
        let expected = try fill(store, count: 50)
        let (rows, pages) = try scanAll(store, limit: 10, byteLimit: 1)
        assertSameRows(rows, expected)
        XCTAssertEqual(pages, 50)
    }

    func testScanHandlesAnEmptyKeyAndAfterBeyondTheEnd() throws {
        let store = try Store(path: databasePath())
        try store.apply([StoredUpdate(seq: 1, key: "", value: [0]), StoredUpdate(seq: 2, key: "a", value: [1])])
        let all = try store.scan(after: .start, limit: 10, byteLimit: 100)
        XCTAssertEqual(Set(all.rows.map(\.key)), ["", "a"])
        let first = try store.scan(after: .start, limit: 1, byteLimit: 100)
        let second = try store.scan(after: first.next, limit: 10, byteLimit: 100)
        XCTAssertEqual(Set((first.rows + second.rows).map(\.key)), ["", "a"])
        XCTAssertEqual(second.rows.count, 1)
        XCTAssertTrue(try store.scan(after: second.next, limit: 10, byteLimit: 100).rows.isEmpty)
        XCTAssertEqual(try store.allRows(limit: 1).map(\.key), [""])
    }

    func testResetThenLoadReplacesTheContents() throws {
        let store = try Store(path: databasePath())
        _ = try fill(store, count: 100)
        try store.setEpoch(3)

        try store.reset(lastSeq: 500)
        XCTAssertEqual(try store.count(), 0)
        XCTAssertEqual(try store.lastSeq(), 500)
        XCTAssertEqual(try store.epoch(), 3, "reset keeps the epoch")

        // A snapshot arriving in two chunks, as a scan of another store produced them.
        let source = try Store(path: databasePath("source.db"))
        let expected = try fill(source, count: 300)
        var cursor = ScanCursor.start
        while case let chunk = try source.scan(after: cursor, limit: 128, byteLimit: 1 << 20), !chunk.rows.isEmpty {
            try store.load(chunk.rows.map { (key: $0.key, value: $0.value) })
            cursor = chunk.next
        }
        try store.load([])
        XCTAssertEqual(try store.lastSeq(), 500, "load must not change last_seq")
        XCTAssertEqual(try store.count(), 300)
        assertSameRows(try store.allRows(limit: 1_000), expected)
        XCTAssertEqual(try store.allRows(limit: 5).count, 5)

        // Normal replication continues after the snapshot point.
        try store.apply([StoredUpdate(seq: 501, key: "after-snapshot", value: [1])])
        XCTAssertEqual(try store.lastSeq(), 501)
    }

    func testASecondConnectionSeesCommittedRows() throws {
        let path = databasePath()
        let writer = try Store(path: path)
        let reader = try Store(path: path)
        XCTAssertNil(try reader.get("k"))
        try writer.apply([StoredUpdate(seq: 1, key: "k", value: [1, 2, 3])])
        XCTAssertEqual(try reader.get("k"), [1, 2, 3])
        XCTAssertEqual(try reader.lastSeq(), 1)
        try writer.apply([StoredUpdate(seq: 2, key: "k", value: nil)])
        XCTAssertNil(try reader.get("k"))
        XCTAssertEqual(try reader.lastSeq(), 2)
        // And the other way round: either connection can write (one at a time).
        try reader.setEpoch(7)
        XCTAssertEqual(try writer.epoch(), 7)
    }

    func testDatabaseIsReadableWithTheSQLiteCLI() throws {
        let path = databasePath()
        let store = try Store(path: path)
        try store.apply([
            StoredUpdate(seq: 1, key: "b", value: [0xAB, 0x00]),
            StoredUpdate(seq: 2, key: "a", value: []),
        ])
        // While the writer is open (the WAL is not yet checkpointed) and after it closed.
        guard let open = try sqlite3CLI(path, "SELECT key, hex(value) FROM kv ORDER BY key") else {
            throw XCTSkip("sqlite3 CLI not installed")
        }
        XCTAssertEqual(open, "a|\nb|AB00\n")
        XCTAssertEqual(try sqlite3CLI(path, "PRAGMA journal_mode"), "wal\n")
        store.close()
        XCTAssertEqual(try sqlite3CLI(path, "SELECT key, hex(value), seq FROM kv ORDER BY key"), "a||2\nb|AB00|1\n")
        XCTAssertEqual(try sqlite3CLI(path, "SELECT name, value FROM meta ORDER BY name"), "last_seq|2\n")
    }
}

final class SnapshotTests: XCTestCase {
    func testSnapshotIgnoresLaterCommits() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("snap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("db.sqlite").path
        let writer = try Store(path: path)
        let reader = try Store(path: path)
        try writer.apply([StoredUpdate(seq: 1, key: "a", value: [1]), StoredUpdate(seq: 2, key: "b", value: [2])])
        try reader.beginSnapshot()
        try writer.apply([StoredUpdate(seq: 3, key: "c", value: [3]), StoredUpdate(seq: 4, key: "a", value: nil)])
        XCTAssertEqual(try reader.lastSeq(), 2)
        XCTAssertEqual(Set(try reader.scan(after: .start, limit: 10, byteLimit: 1 << 20).rows.map(\.key)), ["a", "b"])
        try reader.endSnapshot()
        XCTAssertEqual(try reader.lastSeq(), 4)
        XCTAssertEqual(Set(try reader.scan(after: .start, limit: 10, byteLimit: 1 << 20).rows.map(\.key)), ["b", "c"])
    }
}

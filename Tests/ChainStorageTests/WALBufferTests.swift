import ChainStorage
import Foundation
import XCTest

/// The WAL buffer VFS: a transaction's frames reach the OS in one write, and by the time the
/// commit returns they are in the WAL file (another connection and the file itself show them).
final class WALBufferTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    func testACommitOfManyFramesIsOneWriteAndIsInTheFileWhenItReturns() throws {
        let path = directory.appendingPathComponent("wal.db").path
        let store = try Store(path: path)
        try store.apply([StoredUpdate(seq: 1, key: "warm", value: [1])])
        let walBefore = try walFileSize(path)
        let before = WALBuffer.writes
        let updates = (0..<100).map { i in
            StoredUpdate(seq: UInt64(2 + i), key: "key-\(i)", value: pseudoRandomBytes(count: 1024, seed: UInt64(i)))
        }
        try store.apply(updates)
        let after = WALBuffer.writes
        let sqliteWrites = after.sqlite - before.sqlite, osWrites = after.os - before.os
        XCTAssertGreaterThanOrEqual(sqliteWrites, 200, "SQLite writes a header and a page per frame, 100 rows or more")
        // 100 frames of 2 KiB pages with their headers: about 207 KiB, written 64 KiB at a time.
        XCTAssertLessThanOrEqual(osWrites, 5, "the transaction's frames in a few large writes")
        XCTAssertGreaterThanOrEqual(try walFileSize(path) - walBefore, 100 * 1024, "the frames are in the file when apply returns")

        // Another connection (a second store on the file) sees every row at once.
        let other = try Store(path: path)
        for i in [0, 57, 99] {
            XCTAssertEqual(try other.get("key-\(i)"), pseudoRandomBytes(count: 1024, seed: UInt64(i)))
        }
        XCTAssertEqual(try other.lastSeq(), 101)
        other.close()
        store.close()

        // And so does the file after both closed.
        let reopened = try Store(path: path)
        defer { reopened.close() }
        XCTAssertEqual(try reopened.count(), 101)
        XCTAssertEqual(try reopened.get("key-42"), pseudoRandomBytes(count: 1024, seed: 42))
    }

    /// A transaction larger than the buffer (a 3 MiB value: about 1,500 frames) is written out as
    /// the buffer fills and reads back whole, from another connection and after a reopen.
    func testATransactionLargerThanTheBufferIsWrittenWhole() throws {
        let path = directory.appendingPathComponent("big.db").path
        let store = try Store(path: path)
        let big = pseudoRandomBytes(count: 3 << 20, seed: 7)
        try store.apply([StoredUpdate(seq: 1, key: "big", value: big), StoredUpdate(seq: 2, key: "small", value: [2])])
        let other = try Store(path: path)
        XCTAssertEqual(try other.get("big"), big)
        other.close()
        store.close()
        let reopened = try Store(path: path)
        defer { reopened.close() }
        XCTAssertEqual(try reopened.get("big"), big)
        XCTAssertEqual(try reopened.get("small"), [2])
    }

    /// After a checkpoint emptied the WAL, the next commit starts it again at offset 0 (a new WAL
    /// header): its frames are found by another connection, by a checkpoint and after a reopen.
    func testCommitsAfterACheckpointRestartTheWALCorrectly() throws {
        let path = directory.appendingPathComponent("restart.db").path
        let store = try Store(path: path)
        var seq: UInt64 = 0
        for round in 0..<3 {
            let updates = (0..<50).map { i -> StoredUpdate in
                seq += 1
                return StoredUpdate(seq: seq, key: "key-\(i)", value: pseudoRandomBytes(count: 1024, seed: UInt64(round * 100 + i)))
            }
            try store.apply(updates)
            let other = try Store(path: path)
            XCTAssertEqual(try other.get("key-49"), pseudoRandomBytes(count: 1024, seed: UInt64(round * 100 + 49)))
            XCTAssertEqual(try other.lastSeq(), seq)
            other.close()
            try store.checkpointTruncate()
        }
        store.close()
        let reopened = try Store(path: path)
        defer { reopened.close() }
        XCTAssertEqual(try reopened.lastSeq(), 150)
        for i in [0, 25, 49] {
            XCTAssertEqual(try reopened.get("key-\(i)"), pseudoRandomBytes(count: 1024, seed: UInt64(200 + i)))
        }
    }
}

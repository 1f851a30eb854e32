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
        let walBefore = try walSize(path)
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
        XCTAssertGreaterThanOrEqual(try walSize(path) - walBefore, 100 * 1024, "the frames are in the file when apply returns")

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

    private func walSize(_ path: String) throws -> Int64 {
        let attributes = try FileManager.default.attributesOfItem(atPath: path + "-wal")
        return (attributes[.size] as? NSNumber)?.int64Value ?? 0
    }
}

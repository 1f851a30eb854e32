import ChainStorage
import Foundation
import XCTest

/// The WAL's disk budget: with no background checkpoint keeping up (none runs here), the file
/// grows to `Store.walBudgetBytes` of pages and stops there plus the transaction that crossed the
/// bound, where the writer checkpoints and restarts it; the last values read back from a fresh
/// connection and after a reopen.
final class WALBoundTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    func testTheWALStopsGrowingAtItsBound() throws {
        let path = directory.appendingPathComponent("busy.db").path
        let store = try Store(path: path)
        // Each transaction rewrites the same 1,000 keys: about 1,000 frames of 2 KiB pages, so
        // 80 of them put 80,000 frames through a WAL bounded at 65,536.
        let keys = 1000, transactions = 80
        let pages = Store.walAutocheckpointPages(pageSize: Store.newPageSize)
        let frameBytes = Int64(Store.newPageSize + 24)
        let bound = Int64(Store.walFileBytes(frames: pages, pageSize: Store.newPageSize))
        let oneTransaction = Int64(keys + 50) * frameBytes
        var seq: UInt64 = 0
        var largest: Int64 = 0
        for round in 0..<transactions {
            let updates = (0..<keys).map { i -> StoredUpdate in
                seq += 1
                return StoredUpdate(seq: seq, key: "key-\(i)", value: pseudoRandomBytes(count: 1024, seed: UInt64(round * keys + i)))
            }
            try store.apply(updates)
            largest = max(largest, try walFileSize(path))
        }
        XCTAssertGreaterThan(Int64(transactions * keys) * frameBytes, bound, "the writes are more than the WAL may hold")
        XCTAssertLessThanOrEqual(largest, bound + oneTransaction, "the WAL file stays within its bound")
        XCTAssertGreaterThanOrEqual(largest, bound, "the writer checkpoints only once the WAL reaches its bound")

        let other = try Store(path: path)
        XCTAssertEqual(try other.lastSeq(), seq)
        XCTAssertEqual(try other.get("key-999"), pseudoRandomBytes(count: 1024, seed: UInt64((transactions - 1) * keys + 999)))
        other.close()
        store.close()
        let reopened = try Store(path: path)
        defer { reopened.close() }
        XCTAssertEqual(try reopened.lastSeq(), seq)
        for i in [0, 500, 999] {
            XCTAssertEqual(try reopened.get("key-\(i)"), pseudoRandomBytes(count: 1024, seed: UInt64((transactions - 1) * keys + i)))
        }
    }
}

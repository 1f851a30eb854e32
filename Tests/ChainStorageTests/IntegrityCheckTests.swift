import ChainStorage
import Foundation
import XCTest

final class IntegrityCheckTests: XCTestCase {
    /// A closed database of `rows` rows of 1 KiB (WAL checkpointed into the file on close).
    func makeDatabase(rows: Int) throws -> String {
        let path = try makeTemporaryDirectory(self).appendingPathComponent("db.sqlite").path
        let store = try Store(path: path)
        let value = [UInt8](repeating: 7, count: 1024)
        for start in stride(from: 0, to: rows, by: 500) {
            try store.apply((start..<min(start + 500, rows)).map { StoredUpdate(seq: UInt64($0 + 1), key: "key-\($0)", value: value) })
        }
        store.close()
        return path
    }

    /// Overwrites the first `count` bytes of page `page` (1-based, 4 KiB pages) with 0xFF.
    func damage(_ path: String, page: Int, count: Int = 100) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64((page - 1) * Store.newPageSize))
        handle.write(Data(repeating: 0xFF, count: count))
    }

    func testNoFileAndAnIntactFileAreIntact() throws {
        let missing = try makeTemporaryDirectory(self).appendingPathComponent("none.sqlite").path
        XCTAssertEqual(try IntegrityCheck.run(path: missing, budget: .seconds(5)), .intact)
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "the check creates nothing")
        XCTAssertEqual(try IntegrityCheck.run(path: try makeDatabase(rows: 2000), budget: .seconds(5)), .intact)
    }

    func testOverwrittenPageIsDamaged() throws {
        let path = try makeDatabase(rows: 2000)
        try damage(path, page: 3)
        guard case .damaged(let problems) = try IntegrityCheck.run(path: path, budget: .seconds(5)) else {
            return XCTFail("an overwritten page was not found")
        }
        XCTAssertFalse(problems.isEmpty)
    }

    func testOverwrittenHeaderIsDamaged() throws {
        let path = try makeDatabase(rows: 10)
        try damage(path, page: 1, count: 16)
        guard case .damaged = try IntegrityCheck.run(path: path, budget: .seconds(5)) else {
            return XCTFail("a file without SQLite's header was not found damaged")
        }
    }

    func testBudgetBoundsTheCheck() throws {
        let path = try makeDatabase(rows: 20000)
        XCTAssertEqual(try IntegrityCheck.run(path: path, budget: .zero), .unfinished)
    }
}

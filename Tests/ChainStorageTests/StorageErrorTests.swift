import ChainStorage
import Foundation
import XCTest

// SQLite result codes (sqlite3.h), spelled out so the tests need not import CSQLite.
private let sqliteCantOpen: Int32 = 14
private let sqliteNotADB: Int32 = 26

final class StorageErrorTests: XCTestCase {
    func testOpeningInAMissingDirectoryReportsSQLiteError() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory.appendingPathComponent("no/such/dir/db.sqlite").path
        XCTAssertThrowsError(try Store(path: path)) { error in
            guard let error = error as? StorageError else {
                return XCTFail("expected StorageError, got \(error)")
            }
            XCTAssertEqual(error.code & 0xFF, sqliteCantOpen)
            XCTAssertTrue(error.message.contains(path), error.message)
            XCTAssertTrue(error.description.contains("\(error.code)"), error.description)
        }
    }

    func testOpeningAFileThatIsNotADatabaseFails() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory.appendingPathComponent("garbage.db").path
        try Array(repeating: UInt8(ascii: "x"), count: 4096).withUnsafeBytes {
            try Data($0).write(to: URL(fileURLWithPath: path))
        }
        XCTAssertThrowsError(try Store(path: path)) { error in
            XCTAssertEqual((error as? StorageError)?.code, sqliteNotADB, "\(error)")
        }
    }
}

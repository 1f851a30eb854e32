import ChainCoordination
import ChainFiles
import ChainServerConfig
import Foundation
import XCTest

/// Files a user names are read up to a bound: a path naming a device that never ends, or a huge
/// file, is refused after the bound instead of read into memory.
final class BoundedFileTests: XCTestCase {
    func testReadsAShortFileWholeAndRefusesALongOne() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bounded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let short = dir.appendingPathComponent("short"), long = dir.appendingPathComponent("long")
        try Data("hello".utf8).write(to: short)
        try Data(repeating: 7, count: 4097).write(to: long)
        XCTAssertEqual(BoundedFile.contents(of: short.path, limit: 5), .contents(Array("hello".utf8)))
        XCTAssertEqual(BoundedFile.contents(of: long.path, limit: 4096), .tooLarge)
        XCTAssertEqual(BoundedFile.contents(of: long.path, limit: 4097), .contents([UInt8](repeating: 7, count: 4097)))
        XCTAssertEqual(BoundedFile.contents(of: dir.appendingPathComponent("missing").path, limit: 10), .unreadable)
        XCTAssertEqual(BoundedFile.readPrefix(long.path, max: 3), [7, 7, 7])
    }

    /// A device that never ends: refused at the bound (reading it whole never returns).
    func testADeviceWithoutEndIsRefusedAtTheBound() {
        XCTAssertEqual(BoundedFile.contents(of: "/dev/zero", limit: 1 << 20), .tooLarge)
    }

    /// The server's configuration and the ZooKeeper credentials go through the bounded read.
    func testConfigurationAndCredentialsNamingADeviceAreRefused() {
        XCTAssertThrowsError(try ServerConfig.load(path: "/dev/zero")) { error in
            XCTAssertTrue("\(error)".contains("over 64 KiB"), "\(error)")
        }
        XCTAssertThrowsError(try ZooKeeperDigest(file: "/dev/zero")) { error in
            XCTAssertTrue("\(error)".contains("bytes"), "\(error)")
        }
    }
}

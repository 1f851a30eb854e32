import ChainCore
@testable import ChainStorage
import XCTest

/// Each key's version is the seq of the update that last set it: kept by writes, by a spilled
/// row moving into its slot, by scans and by snapshot loads; an update whose condition failed
/// changes no row but keeps its outcome and moves `last_seq`.
final class VersionTests: XCTestCase {
    private func store() throws -> (Store, String) {
        let path = try makeTemporaryDirectory(self).appendingPathComponent("store.db").path
        return (try Store(path: path), path)
    }

    func testAKeysVersionIsTheSeqThatLastSetIt() throws {
        let (s, path) = try store()
        try s.apply([StoredUpdate(seq: 1, key: "a", value: [1]), StoredUpdate(seq: 2, key: "b", value: [2]),
                     StoredUpdate(seq: 3, key: "a", value: [3])])
        XCTAssertEqual(try s.getVersioned("a"), VersionedValue([3], version: 3))
        XCTAssertEqual(try s.getVersioned("b"), VersionedValue([2], version: 2))
        try s.apply([StoredUpdate(seq: 4, key: "b", value: nil)])
        XCTAssertNil(try s.getVersioned("b"))
        s.close()
        XCTAssertEqual(try Store(path: path).getVersioned("a"), VersionedValue([3], version: 3), "versions are on disk")
    }

    func testAFailedConditionChangesNoRowButKeepsItsOutcome() throws {
        let (s, _) = try store()
        try s.apply([StoredUpdate(seq: 1, key: "k", value: [1])])
        let request = RequestID(client: 9, seq: 1)
        let outcome = WriteOutcome(reply: .conditionFailed(current: 1), seq: 2, request: request)
        try s.apply([StoredUpdate(Update(seq: 2, key: "k", value: nil, request: request, conditionFailed: 1), outcome: outcome)])
        XCTAssertEqual(try s.getVersioned("k"), VersionedValue([1], version: 1), "not deleted: the update changes nothing")
        XCTAssertEqual(try s.lastSeq(), 2)
        XCTAssertEqual(try s.outcome(seq: 2), outcome)
        XCTAssertEqual(try s.outcome(seq: 2)?.reply, .conditionFailed(current: 1))
    }

    func testScansAndSnapshotLoadsCarryVersions() throws {
        let (source, _) = try store()
        // Enough keys for hashed-slot collisions to be unlikely to matter; versions differ per key.
        let updates = (1...200).map { StoredUpdate(seq: UInt64($0), key: "key-\($0)", value: [UInt8($0 % 256)]) }
        try source.apply(updates)
        let page = try source.scan(after: .start, limit: 1000, byteLimit: 1 << 20)
        XCTAssertEqual(page.rows.count, 200)
        for row in page.rows { XCTAssertEqual("key-\(row.version)", row.key) }

        let (joiner, _) = try store()
        try joiner.reset(lastSeq: 200)
        try joiner.load(versioned: page.rows.map { (key: $0.key, value: $0.value, version: $0.version) })
        for u in updates { XCTAssertEqual(try joiner.getVersioned(u.key), VersionedValue(u.value!, version: u.seq)) }

        try joiner.load([(key: "old-format", value: [0])])
        XCTAssertEqual(try joiner.getVersioned("old-format")?.version, 200, "a row sent without a version takes the snapshot's point")
        XCTAssertThrowsError(try joiner.load(versioned: [(key: "ahead", value: [0], version: 201)]), "a version after the snapshot")
        XCTAssertNil(try joiner.getVersioned("ahead"))
    }

    func testSpilledKeysKeepTheirVersions() throws {
        let path = try makeTemporaryDirectory(self).appendingPathComponent("spill.db").path
        // One slot for every key: all but one live in kv_spill.
        let s = try Store(path: path, cacheKiB: 1024, slotOf: { _ in 1 })
        try s.apply([StoredUpdate(seq: 1, key: "a", value: [1]), StoredUpdate(seq: 2, key: "b", value: [2]),
                     StoredUpdate(seq: 3, key: "c", value: [3])])
        XCTAssertEqual(try s.getVersioned("b"), VersionedValue([2], version: 2), "read from kv_spill")
        try s.apply([StoredUpdate(seq: 4, key: "a", value: nil)])
        XCTAssertEqual(try s.getVersioned("b"), VersionedValue([2], version: 2), "moved into the slot with its version")
        XCTAssertEqual(try s.getVersioned("c"), VersionedValue([3], version: 3))
        var versions: [UInt64] = []
        var cursor = ScanCursor.start
        while case let page = try s.scan(after: cursor, limit: 10, byteLimit: 1 << 20), !page.rows.isEmpty {
            versions += page.rows.map(\.version)
            cursor = page.next
        }
        XCTAssertEqual(versions.sorted(), [2, 3], "the slot's row, then the spilled one")
    }
}

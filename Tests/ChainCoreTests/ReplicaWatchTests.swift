import XCTest
@testable import ChainCore

/// A replica's history of committed updates as watches read it: only committed changes, in
/// sequence order, filtered, bounded, and "compacted" before the oldest one kept.
final class ReplicaWatchTests: XCTestCase {
    let view = ChainView(epoch: 1, members: ["a", "b"])
    func c(_ n: UInt64) -> ClientRef { ClientRef(connection: 1, request: n) }

    func head(lastSeq: UInt64 = 0) -> Replica {
        var r = Replica(id: "a", lastSeq: lastSeq)
        _ = r.on(.viewChanged(view))
        _ = r.on(.lease(until: 1000))
        _ = r.on(.successorLinkUp("b"))
        _ = r.on(.ack(from: "b", epoch: 1, seq: lastSeq))
        return r
    }

    func write(_ r: inout Replica, _ n: UInt64, _ key: String, _ value: String?, ifVersion: UInt64? = nil) {
        _ = r.on(.clientWrite(c(n), key: key, value: value.map { Array($0.utf8) }, stored: nil, request: nil, ifVersion: ifVersion))
    }

    func commit(_ r: inout Replica, through seq: UInt64) {
        _ = r.on(.persisted(through: seq))
        _ = r.on(.ack(from: "b", epoch: 1, seq: seq))
    }

    func testOnlyCommittedChangesInSequenceOrder() {
        var a = head()
        write(&a, 1, "w/1", "one")
        write(&a, 2, "x", "other")
        write(&a, 3, "w/1", nil)
        write(&a, 4, "w/2", "two", ifVersion: 9)  // fails its condition: changes nothing
        XCTAssertEqual(a.committedChanges(after: 0, matching: { $0.hasPrefix("w/") }, limit: 10, byteLimit: 1000),
                       .changes([], through: 0), "nothing committed yet")
        commit(&a, through: 3)
        XCTAssertEqual(a.committedChanges(after: 0, matching: { $0.hasPrefix("w/") }, limit: 10, byteLimit: 1000),
                       .changes([Change(key: "w/1", value: Array("one".utf8), version: 1), Change(key: "w/1", value: nil, version: 3)], through: 3))
        commit(&a, through: 4)
        XCTAssertEqual(a.committedChanges(after: 3, matching: { _ in true }, limit: 10, byteLimit: 1000), .changes([], through: 4),
                       "a failed condition is looked at, not delivered")
        XCTAssertEqual(a.committedChanges(after: nil, matching: { _ in true }, limit: 10, byteLimit: 1000), .changes([], through: 4),
                       "from now")
    }

    func testLimitsEndAPageAfterAtLeastOneChange() {
        var a = head()
        for i in 1...5 { write(&a, UInt64(i), "k\(i)", String(repeating: "v", count: 100)) }
        commit(&a, through: 5)
        XCTAssertEqual(a.committedChanges(after: 0, matching: { _ in true }, limit: 2, byteLimit: 1 << 20),
                       .changes([Change(key: "k1", value: Array(repeating: 0x76, count: 100), version: 1),
                                 Change(key: "k2", value: Array(repeating: 0x76, count: 100), version: 2)], through: 2))
        guard case .changes(let one, let through) = a.committedChanges(after: 2, matching: { _ in true }, limit: 10, byteLimit: 1) else {
            return XCTFail("changes expected")
        }
        XCTAssertEqual(one.map(\.version), [3])
        XCTAssertEqual(through, 3)
    }

    func testAHistoryThatStartsLaterIsCompactedBeforeIt() {
        // A restarted replica holds no history before what it has on disk.
        var a = head(lastSeq: 100)
        XCTAssertEqual(a.committedChanges(after: 40, matching: { _ in true }, limit: 10, byteLimit: 100), .compacted(oldest: 101))
        XCTAssertEqual(a.committedChanges(after: 100, matching: { _ in true }, limit: 10, byteLimit: 100), .changes([], through: 100))
        write(&a, 1, "k", "v")
        commit(&a, through: 101)
        XCTAssertEqual(a.committedChanges(after: 100, matching: { _ in true }, limit: 10, byteLimit: 100),
                       .changes([Change(key: "k", value: [0x76], version: 101)], through: 101))
        XCTAssertEqual(a.committedChanges(after: 99, matching: { _ in true }, limit: 10, byteLimit: 100), .compacted(oldest: 101))
        XCTAssertEqual(a.committedChanges(after: 500, matching: { _ in true }, limit: 10, byteLimit: 100), .changes([], through: 500),
                       "ahead of this replica (a new head still learning): nothing yet")
    }
}

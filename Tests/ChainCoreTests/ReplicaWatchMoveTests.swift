import XCTest
@testable import ChainCore

/// A slot move in a replica's history as watches read it: the copies and purge deletes are not
/// changes (but `through` passes them), and a barrier reaches every watcher in its place.
extension ReplicaWatchTests {
    func moveWrite(_ r: inout Replica, _ n: UInt64, _ key: String, _ value: String?, _ move: MoveMark) {
        _ = r.on(.clientWrite(c(n), key: key, value: value.map { Array($0.utf8) }, stored: nil, request: nil, move: move))
    }

    func testCopiesAndPurgesAreHiddenAndBarriersShown() {
        let barrier = MoveBarrier(slots: [10...12], from: "c1", after: 77)
        var a = head()
        write(&a, 1, "w/1", "one")                          // 1
        moveWrite(&a, 2, "", nil, .barrier(barrier))         // 2
        moveWrite(&a, 3, "w/2", "copied", .copy)             // 3
        moveWrite(&a, 4, "w/3", nil, .purge)                 // 4
        write(&a, 5, "w/2", "two")                           // 5
        moveWrite(&a, 6, "w/4", "copied", .copy)             // 6
        commit(&a, through: 6)
        XCTAssertEqual(a.committedChanges(after: 0, matching: { $0.hasPrefix("w/") }, limit: 10, byteLimit: 1000),
                       .changes([Change(key: "w/1", value: Array("one".utf8), version: 1), Change(barrier: barrier, version: 2),
                                 Change(key: "w/2", value: Array("two".utf8), version: 5)], through: 6),
                       "no copy, no purge; the cursor passes them")
        // A watcher of keys the move touched only by copies and purges still gets the barrier
        // and moves on past them (no re-reading, no gap).
        XCTAssertEqual(a.committedChanges(after: 2, matching: { $0 == "w/3" || $0 == "w/4" }, limit: 10, byteLimit: 1000),
                       .changes([], through: 6))
        XCTAssertEqual(a.committedChanges(after: 0, matching: { _ in false }, limit: 10, byteLimit: 1000),
                       .changes([Change(barrier: barrier, version: 2)], through: 6), "a barrier whatever the keys")
        // A barrier counts for the limit; the read passes the hidden entries after it, up to the
        // next change, where the next read resumes.
        XCTAssertEqual(a.committedChanges(after: 0, matching: { $0.hasPrefix("w/") }, limit: 2, byteLimit: 1000),
                       .changes([Change(key: "w/1", value: Array("one".utf8), version: 1), Change(barrier: barrier, version: 2)], through: 4))
        XCTAssertEqual(a.committedChanges(after: 4, matching: { $0.hasPrefix("w/") }, limit: 2, byteLimit: 1000),
                       .changes([Change(key: "w/2", value: Array("two".utf8), version: 5)], through: 6))
    }

    func testMarksAreReplicatedAndABarrierChangesNoKey() {
        var a = head()
        moveWrite(&a, 1, "", nil, .barrier(MoveBarrier(slots: [0...0], from: "c0", after: 5)))
        let actions = a.on(.clientWrite(c(2), key: "k", value: [1], stored: nil, request: nil, move: .copy))
        let forwarded = actions.compactMap { action -> Update? in
            if case .forward(_, _, let u) = action { return u }
            return nil
        }
        XCTAssertEqual(forwarded.map(\.move), [.copy], "the mark goes down the chain with the update")
        XCTAssertFalse(Update(seq: 1, key: "", value: nil, move: .barrier(MoveBarrier(slots: [0...0], from: "c0", after: 5))).changesKey)
        XCTAssertTrue(Update(seq: 1, key: "k", value: [1], move: .copy).changesKey, "a copy sets the key's row")
        XCTAssertFalse(Update(seq: 1, key: "k", value: [1], move: .copy).isUserChange)
        XCTAssertFalse(Update(seq: 1, key: "k", value: nil, move: .purge).isUserChange)
        XCTAssertTrue(Update(seq: 1, key: "k", value: nil).isUserChange)
    }

    func testTheNewestBarriersForAWatchFromNow() {
        var a = head()
        let barriers = (0..<4).map { MoveBarrier(slots: [$0...$0], from: "c1", after: UInt64($0)) }
        for (i, b) in barriers.enumerated() {
            write(&a, UInt64(2 * i + 1), "k", "v")
            moveWrite(&a, UInt64(2 * i + 2), "", nil, .barrier(b))
        }
        XCTAssertEqual(a.recentBarriers(max: 2), [], "none committed yet")
        commit(&a, through: 8)
        XCTAssertEqual(a.recentBarriers(max: 2), [Change(barrier: barriers[2], version: 6), Change(barrier: barriers[3], version: 8)])
        XCTAssertEqual(a.recentBarriers(max: 10).count, 4)
    }

    /// A watcher resuming past a compaction learns of a move it skipped: the barriers outlive
    /// the history, up to `barriersKeptMax`.
    func testBarriersAreKeptAfterTheHistoryDropsThem() {
        var a = head()
        let kept = CoreLimits.barriersKeptMax
        let barriers = (0...kept).map { MoveBarrier(slots: [$0...$0], from: "c1", after: UInt64($0)) }
        var seq: UInt64 = 0
        for b in barriers {
            seq += 1
            moveWrite(&a, seq, "", nil, .barrier(b))
        }
        // Enough writes after them that the history holds none of the barriers.
        for _ in 0..<CoreLimits.recentMax {
            seq += 1
            write(&a, seq, "k", "v")
            if seq % 1000 == 0 { commit(&a, through: seq) }
        }
        commit(&a, through: seq)
        XCTAssertEqual(a.committedChanges(after: 0, matching: { _ in true }, limit: 10, byteLimit: 1000),
                       .compacted(oldest: UInt64(kept + 2)), "the history starts after the barriers")
        let found = a.recentBarriers(max: 1000)
        XCTAssertEqual(found.count, kept, "the oldest one past the bound is gone")
        XCTAssertEqual(found.first, Change(barrier: barriers[1], version: 2))
        XCTAssertEqual(found.last, Change(barrier: barriers[kept], version: UInt64(kept + 1)))
    }
}

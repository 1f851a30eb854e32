import ChainStorage
import Foundation
import XCTest

final class GroupCommitterTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    private var databasePath: String {
        directory.appendingPathComponent("commit.db").path
    }

    private struct Report: Equatable {
        var lastSeq: UInt64
        var batchSize: Int
    }

    /// A committer whose reports and errors are recorded.
    private func makeCommitter(_ store: Store, maxBatch: Int = 1024)
        -> (GroupCommitter, reports: Locked<[Report]>, errors: Locked<[StorageError]>) {
        let reports = Locked<[Report]>([])
        let errors = Locked<[StorageError]>([])
        let committer = GroupCommitter(
            store: store, maxBatch: maxBatch,
            onDurable: { lastSeq, batchSize, _ in
                reports.withLock { $0.append(Report(lastSeq: lastSeq, batchSize: batchSize)) }
            },
            onError: { error in
                errors.withLock { $0.append(error) }
            })
        return (committer, reports, errors)
    }

    func testConcurrentSubmittersAreGroupCommitted() throws {
        let store = try Store(path: databasePath)
        let (committer, reports, errors) = makeCommitter(store)
        let total = 10_000
        let threads = 4

        // Like the head: a lock hands out seqs, and each update is submitted under it so the
        // committer receives them in seq order.
        let sequencer = Locked<UInt64>(0)
        let done = DispatchGroup()
        for _ in 0 ..< threads {
            done.enter()
            Thread.detachNewThread {
                for _ in 0 ..< total / threads {
                    sequencer.withLock { next in
                        next += 1
                        committer.submit(update(next))
                    }
                }
                done.leave()
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        committer.stop()

        XCTAssertTrue(errors.current.isEmpty, "\(errors.current)")
        let batches = reports.current
        XCTAssertEqual(batches.last?.lastSeq, UInt64(total), "reports must reach the highest seq")
        XCTAssertEqual(batches.reduce(0) { $0 + $1.batchSize }, total, "every update is reported exactly once")
        XCTAssertTrue(batches.contains { $0.batchSize > 1 }, "no batch had more than one update: no group commit")
        XCTAssertLessThan(batches.count, total)
        XCTAssertTrue(batches.allSatisfy { $0.batchSize <= 1024 })
        // Reports are cumulative: each batch ends where the next one's seqs begin.
        var expectedEnd: UInt64 = 0
        for batch in batches {
            expectedEnd += UInt64(batch.batchSize)
            XCTAssertEqual(batch.lastSeq, expectedEnd)
        }

        XCTAssertEqual(try store.lastSeq(), UInt64(total))
        // Final state: the last write to each key wins (seq % 10 == 0 deletes).
        for key in [1, 10, 999] as [UInt64] {
            let lastSeq = UInt64(total) - 1_000 + key
            XCTAssertEqual(try store.get("key-\(key)"), lastSeq % 10 == 0 ? nil : Array("v\(lastSeq)".utf8))
        }
        XCTAssertEqual(try store.count(), 900)
    }

    /// `submit(taking:)`, as the server's loop submits: the caller's array comes back empty every
    /// time, whether it became the queue (the committer had taken everything) or was appended to
    /// it (the committer was behind), and every update is committed once, in order.
    func testSubmitTakingHandsOverEveryUpdateInOrder() throws {
        let store = try Store(path: databasePath)
        let (committer, reports, errors) = makeCommitter(store, maxBatch: 64)
        var pending: [StoredUpdate] = []
        var next: UInt64 = 0
        for round in 0 ..< 300 {
            // Runs of 1 to 40 updates, some submitted before the committer can take the last.
            for _ in 0 ... round % 40 {
                next += 1
                pending.append(update(next))
            }
            committer.submit(taking: &pending)
            XCTAssertTrue(pending.isEmpty, "round \(round): the array comes back empty")
        }
        committer.stop()
        XCTAssertTrue(errors.current.isEmpty, "\(errors.current)")
        let batches = reports.current
        XCTAssertEqual(batches.reduce(0) { $0 + $1.batchSize }, Int(next), "every update is committed exactly once")
        XCTAssertTrue(batches.allSatisfy { $0.batchSize <= 64 })
        var expectedEnd: UInt64 = 0
        for batch in batches {
            expectedEnd += UInt64(batch.batchSize)
            XCTAssertEqual(batch.lastSeq, expectedEnd, "batches follow each other in seq order")
        }
        XCTAssertEqual(try store.lastSeq(), next)
        XCTAssertEqual(try store.get("key-\(next % 1_000)"), next % 10 == 0 ? nil : Array("v\(next)".utf8))
    }

    func testMaxBatchBoundsEachTransaction() throws {
        let store = try Store(path: databasePath)
        let (committer, reports, _) = makeCommitter(store, maxBatch: 7)
        committer.submit(contentsOf: (1 ... 100).map(update))
        committer.stop()
        let batches = reports.current
        XCTAssertTrue(batches.allSatisfy { $0.batchSize <= 7 }, "\(batches)")
        XCTAssertEqual(batches.reduce(0) { $0 + $1.batchSize }, 100)
        XCTAssertEqual(batches.last?.lastSeq, 100)
    }

    func testStopFlushesQueuedUpdatesAndIsIdempotent() throws {
        let path = databasePath
        do {
            let store = try Store(path: path)
            let (committer, reports, errors) = makeCommitter(store)
            committer.submit(contentsOf: (1 ... 5_000).map(update))
            committer.stop()
            XCTAssertEqual(reports.current.last?.lastSeq, 5_000, "stop must commit what was queued")
            committer.stop()
            committer.submit(update(5_001)) // ignored after stop
            committer.stop()
            XCTAssertEqual(reports.current.last?.lastSeq, 5_000)
            XCTAssertTrue(errors.current.isEmpty)
            XCTAssertThrowsError(try committer.withExclusiveStore { try $0.lastSeq() })
            store.close()
        }
        let reopened = try Store(path: path)
        XCTAssertEqual(try reopened.lastSeq(), 5_000)
        XCTAssertEqual(try reopened.count(), 900)
    }

    func testStopFromSeveralThreadsAtOnce() throws {
        let store = try Store(path: databasePath)
        let (committer, reports, _) = makeCommitter(store)
        committer.submit(contentsOf: (1 ... 2_000).map(update))
        DispatchQueue.concurrentPerform(iterations: 4) { _ in committer.stop() }
        XCTAssertEqual(reports.current.last?.lastSeq, 2_000)
    }

    func testDroppingTheCommitterFlushesAndStopsIt() throws {
        let store = try Store(path: databasePath)
        let reports = Locked<[UInt64]>([])
        do {
            let committer = GroupCommitter(store: store, onDurable: { seq, _, _ in reports.withLock { $0.append(seq) } },
                                           onError: { _ in })
            committer.submit(contentsOf: (1 ... 300).map(update))
        }
        XCTAssertEqual(reports.current.last, 300)
        XCTAssertEqual(try store.lastSeq(), 300)
    }

    func testWithExclusiveStoreRunsAfterEarlierSubmissionsAndReturnsItsResult() throws {
        let store = try Store(path: databasePath)
        let (committer, reports, errors) = makeCommitter(store)
        committer.submit(contentsOf: (1 ... 3_000).map(update))
        let seen = try committer.withExclusiveStore { store -> UInt64 in
            try store.setEpoch(9)
            return try store.lastSeq()
        }
        XCTAssertEqual(seen, 3_000, "updates submitted before the call are committed first")

        struct Expected: Error {}
        XCTAssertThrowsError(try committer.withExclusiveStore { _ -> Int in throw Expected() }) { error in
            XCTAssertTrue(error is Expected, "\(error)")
        }

        // Snapshot reception through the committer, then replication continues after it.
        try committer.withExclusiveStore { store in
            try store.reset(lastSeq: 10_000)
            try store.load([(key: "snap", value: [1])])
        }
        committer.submit(update(10_001))
        committer.stop()

        XCTAssertTrue(errors.current.isEmpty, "\(errors.current)")
        XCTAssertEqual(reports.current.last?.lastSeq, 10_001)
        XCTAssertEqual(try store.epoch(), 9)
        XCTAssertEqual(try store.allRows(limit: 10).map(\.key), ["key-1", "snap"])
    }

    func testCallbacksMayUseTheStoreAndStop() throws {
        let store = try Store(path: databasePath)
        let seenInCallback = Locked<[UInt64]>([])
        let committerBox = Locked<GroupCommitter?>(nil)
        let committer = GroupCommitter(
            store: store, maxBatch: 10,
            onDurable: { lastSeq, _, _ in
                guard let committer = committerBox.current else { return }
                // Runs inline on the committer thread; must not deadlock.
                let stored = try? committer.withExclusiveStore { try $0.lastSeq() }
                seenInCallback.withLock { $0.append(stored ?? 0) }
                if lastSeq >= 50 { committer.stop() }
            },
            onError: { _ in })
        committerBox.withLock { $0 = committer }
        committer.submit(contentsOf: (1 ... 100).map(update))
        committer.stop()
        committerBox.withLock { $0 = nil }
        XCTAssertEqual(seenInCallback.current.last, 100, "stop from a callback still flushes the queue")
        XCTAssertEqual(try store.lastSeq(), 100)
    }

    func testCommitFailureIsReportedAndStopsTheCommitter() throws {
        let store = try Store(path: databasePath)
        try store.apply([StoredUpdate(seq: 100, key: "a", value: [1])])
        let (committer, reports, errors) = makeCommitter(store)
        committer.submit(update(50)) // below last_seq: the commit fails
        committer.stop()

        XCTAssertEqual(errors.current.count, 1)
        XCTAssertTrue(errors.current.first?.message.contains("not above last_seq 100") ?? false, "\(errors.current)")
        XCTAssertTrue(reports.current.isEmpty)
        XCTAssertThrowsError(try committer.withExclusiveStore { try $0.lastSeq() })
        committer.submit(update(101)) // ignored after a failure
        XCTAssertEqual(try store.lastSeq(), 100)
        XCTAssertNil(try store.get("key-50"))
    }

    func testAReaderOnTheSameFileSeesWhatTheCommitterReportedDurable() throws {
        let store = try Store(path: databasePath)
        let reader = try Store(path: databasePath)
        let durable = Locked<UInt64>(0)
        let committer = GroupCommitter(store: store, onDurable: { seq, _, _ in durable.withLock { $0 = seq } },
                                       onError: { _ in })
        for chunk in 0 ..< 10 as Range<UInt64> {
            let seqs = (chunk * 20 + 1) ... (chunk * 20 + 20)
            committer.submit(contentsOf: seqs.map { StoredUpdate(seq: $0, key: "k\($0)", value: [UInt8($0 % 256)]) })
            let deadline = Date().addingTimeInterval(10)
            while durable.current < seqs.upperBound, Date() < deadline {
                usleep(200)
            }
            XCTAssertEqual(durable.current, seqs.upperBound, "the chunk was not reported durable in time")
            // Everything reported durable is visible to another connection right away.
            XCTAssertEqual(try reader.lastSeq(), seqs.upperBound)
            XCTAssertEqual(try reader.get("k\(seqs.upperBound)"), [UInt8(seqs.upperBound % 256)])
            XCTAssertEqual(try reader.count(), Int(seqs.upperBound))
        }
        committer.stop()
    }
}

/// Update `seq` writes key-(seq % 1000), and every tenth update is a delete.
private func update(_ seq: UInt64) -> StoredUpdate {
    StoredUpdate(seq: seq, key: "key-\(seq % 1_000)", value: seq % 10 == 0 ? nil : Array("v\(seq)".utf8))
}

@testable import ChainStorage
import Foundation
import XCTest

final class CommitDelayTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    // MARK: The rule

    func testWaitsOnlyAfterABatchOfConcurrentWritersWhileFewerAreQueued() {
        let delay = CommitDelay(nanoseconds: 1_000_000)
        XCTAssertEqual(delay.remaining(lastBatch: 8, pending: 3, waited: 0), 1_000_000)
        XCTAssertEqual(delay.remaining(lastBatch: 8, pending: 7, waited: 400_000), 600_000)
        XCTAssertNil(delay.remaining(lastBatch: 8, pending: 8, waited: 0), "as many as the last batch: commit")
        XCTAssertNil(delay.remaining(lastBatch: 8, pending: 3, waited: 1_000_000), "waited the whole delay")
        XCTAssertNil(delay.remaining(lastBatch: CommitDelay.siblingsMin - 1, pending: 1, waited: 0),
                     "a small last batch shows no concurrent writers")
        XCTAssertEqual(delay.remaining(lastBatch: CommitDelay.siblingsMin, pending: 1, waited: 0), 1_000_000)
        XCTAssertNil(delay.remaining(lastBatch: 0, pending: 1, waited: 0), "the first commit never waits")
        XCTAssertNil(CommitDelay.none.remaining(lastBatch: 100, pending: 1, waited: 0), "no delay configured")
    }

    // MARK: The committer

    func testACommitWaitsForABatchAsLargeAsTheLast() throws {
        let (committer, reports) = try makeCommitter(delayNanoseconds: 5_000_000_000)
        defer { committer.stop() }
        committer.submit(contentsOf: (1 ... 4).map(update))
        try waitUntil { reports.current.last?.lastSeq == 4 }
        let started = Date()
        committer.submit(update(5))
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(reports.current.last?.lastSeq, 4, "one update after a batch of 4 waits for more")
        committer.submit(contentsOf: (6 ... 8).map(update))
        try waitUntil { reports.current.last?.lastSeq == 8 }
        XCTAssertEqual(reports.current.map(\.batchSize), [4, 4], "updates 5 to 8 share one commit")
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "a full batch ends the wait at once, not after the 5 s delay")
    }

    func testAWaitEndsAfterTheDelay() throws {
        let (committer, reports) = try makeCommitter(delayNanoseconds: 150_000_000)
        defer { committer.stop() }
        committer.submit(contentsOf: (1 ... 4).map(update))
        try waitUntil { reports.current.last?.lastSeq == 4 }
        let started = Date()
        committer.submit(update(5))
        try waitUntil { reports.current.last?.lastSeq == 5 }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.14, "the update waited for company")
        XCTAssertEqual(reports.current.map(\.batchSize), [4, 1])
    }

    func testUpdatesHandedOverWhileItWaitsJoinTheBatch() throws {
        // The server's way in: `submit(taking:)`, whose array becomes the queue when nothing is
        // left untaken, and is appended otherwise.
        let (committer, reports) = try makeCommitter(delayNanoseconds: 5_000_000_000)
        defer { committer.stop() }
        var batch = (1 ... 6).map(update)
        committer.submit(taking: &batch)
        try waitUntil { reports.current.last?.lastSeq == 6 }
        let started = Date()
        for seq in 7 ... 12 as ClosedRange<UInt64> {
            var one = [update(seq)]
            committer.submit(taking: &one)
            XCTAssertTrue(one.isEmpty)
            if seq < 12 {
                Thread.sleep(forTimeInterval: 0.02)
                XCTAssertEqual(reports.current.last?.lastSeq, 6, "\(seq - 6) of 6 queued: still waiting")
            }
        }
        try waitUntil { reports.current.last?.lastSeq == 12 }
        XCTAssertEqual(reports.current.map(\.batchSize), [6, 6])
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "the sixth update ended the 5 s wait")
    }

    func testALoneWriterNeverWaits() throws {
        let (committer, reports) = try makeCommitter(delayNanoseconds: 5_000_000_000)
        defer { committer.stop() }
        let started = Date()
        for seq in 1 ... 5 as ClosedRange<UInt64> {
            committer.submit(update(seq))
            try waitUntil { reports.current.last?.lastSeq == seq }
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "batches of one never wait out the 5 s delay")
    }

    func testStopAndExclusiveJobsDoNotWaitOutTheDelay() throws {
        let (committer, reports) = try makeCommitter(delayNanoseconds: 30_000_000_000)
        committer.submit(contentsOf: (1 ... 4).map(update))
        try waitUntil { reports.current.last?.lastSeq == 4 }
        committer.submit(update(5))
        Thread.sleep(forTimeInterval: 0.05)  // the committer is waiting for 3 more
        var started = Date()
        XCTAssertEqual(try committer.withExclusiveStore { try $0.lastSeq() }, 5,
                       "a job runs after the queued update, which it does not leave waiting")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the job ended the 30 s wait")
        committer.submit(contentsOf: (6 ... 9).map(update))
        try waitUntil { reports.current.last?.lastSeq == 9 }
        committer.submit(update(10))
        Thread.sleep(forTimeInterval: 0.05)
        started = Date()
        committer.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "stop ended the 30 s wait")
        XCTAssertEqual(reports.current.last?.lastSeq, 10, "stop commits what is queued")
    }

    // MARK: Helpers

    private struct Report: Equatable {
        var lastSeq: UInt64
        var batchSize: Int
    }

    private func makeCommitter(delayNanoseconds: Int) throws -> (GroupCommitter, reports: Locked<[Report]>) {
        let store = try Store(path: directory.appendingPathComponent("delay.db").path)
        let reports = Locked<[Report]>([])
        let committer = GroupCommitter(
            store: store, delay: CommitDelay(nanoseconds: delayNanoseconds),
            onDurable: { lastSeq, batchSize, _ in reports.withLock { $0.append(Report(lastSeq: lastSeq, batchSize: batchSize)) } },
            onError: { error in XCTFail("commit failed: \(error)") })
        return (committer, reports)
    }

    /// Polls `condition` every millisecond for at most 10 s.
    private func waitUntil(_ condition: () -> Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition() {
            guard Date() < deadline else {
                XCTFail("condition not met within 10 s", file: file, line: line)
                throw CancellationError()
            }
            Thread.sleep(forTimeInterval: 0.001)
        }
    }
}

private func update(_ seq: UInt64) -> StoredUpdate {
    StoredUpdate(seq: seq, key: "key-\(seq % 3)", value: Array("v\(seq)".utf8))
}

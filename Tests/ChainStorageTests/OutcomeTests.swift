import ChainCore
import ChainStorage
import XCTest

/// Request outcomes stored with their writes: what a retry after a restart is answered from.
final class OutcomeTests: XCTestCase {
    private func store() throws -> (Store, String) {
        let path = try makeTemporaryDirectory(self).appendingPathComponent("store.db").path
        return (try Store(path: path), path)
    }

    private func write(_ seq: UInt64, client: UInt64 = 7, _ kind: WriteOutcome.Kind, old: [UInt8]? = nil) -> StoredUpdate {
        StoredUpdate(seq: seq, key: "k", value: kind == .deleteExisted ? nil : [UInt8(seq % 256)],
                     outcome: WriteOutcome(seq: seq, request: RequestID(client: client, seq: seq + 1000), kind: kind, old: old)!)
    }

    func testOutcomesSurviveReopeningInSeqOrder() throws {
        let (first, path) = try store()
        try first.apply([write(1, .putNewKey), StoredUpdate(seq: 2, key: "x", value: [1]), write(3, .putOldValue, old: [1])])
        try first.apply([write(4, client: UInt64.max, .deleteExisted)])
        first.close()

        let reopened = try Store(path: path)
        let outcomes = try reopened.outcomes(afterSeq: 0, limit: 100)
        XCTAssertEqual(outcomes, [
            WriteOutcome(seq: 1, request: RequestID(client: 7, seq: 1001), kind: .putNewKey, old: nil)!,
            WriteOutcome(seq: 3, request: RequestID(client: 7, seq: 1003), kind: .putOldValue, old: [1])!,
            WriteOutcome(seq: 4, request: RequestID(client: UInt64.max, seq: 1004), kind: .deleteExisted, old: nil)!,
        ], "a write without a request id stores no outcome; client ids use all 64 bits")
        XCTAssertEqual(try reopened.outcomes(afterSeq: 1, limit: 1), [outcomes[1]], "paged by seq")
    }

    func testOutcomesOlderThanTheKeptWindowArePruned() throws {
        let (s, _) = try store()
        try s.apply([write(1, .putNewKey), write(2, .putNewKey), write(3, .putNewKey)])
        let far = 2 + Store.outcomesKeptMax
        try s.apply([write(far, .putNewKey)])
        XCTAssertEqual(try s.outcomes(afterSeq: 0, limit: 10).map(\.seq), [3, far],
                       "the window is the last outcomesKeptMax sequence numbers: 3 is its oldest")
    }

    func testResetForASnapshotDropsOutcomesAndLoadTakesTheSnapshotOnes() throws {
        let (s, _) = try store()
        try s.apply([write(1, .putNewKey), write(2, .putOldValueNotKept)])
        try s.reset(lastSeq: 50)
        XCTAssertEqual(try s.outcomes(afterSeq: 0, limit: 10), [])
        let snapshot = [WriteOutcome(seq: 40, request: RequestID(client: 1, seq: 2), kind: .deleteAbsent, old: nil)!,
                        WriteOutcome(seq: 49, request: RequestID(client: 1, seq: 3), kind: .putOldValue, old: [9, 9])!]
        try s.loadOutcomes(snapshot)
        try s.loadOutcomes([snapshot[1]])  // a resent chunk is harmless
        XCTAssertEqual(try s.outcomes(afterSeq: 0, limit: 10), snapshot)
        XCTAssertEqual(try s.outcomes(afterSeq: 0, limit: 10, byteLimit: 1), [snapshot[0]], "at least one per page")
    }
}

import XCTest
@testable import ChainCore

/// A retry of a committed write is answered from the history of committed updates when it still
/// holds the write (`Replica.historyReply`): with the first reply's old value whatever its size,
/// at the head that took the write and at a new head after a failover. Outside the history the
/// shell answers from the outcome on disk (`replyStored`), which keeps old values only up to
/// `CoreLimits.outcomeValueKeptMax` bytes.
final class ReplicaRetryReplyTests: XCTestCase {
    let view = ChainView(epoch: 1, members: ["a", "b", "c"])
    func c(_ n: UInt64) -> ClientRef { ClientRef(connection: 1, request: n) }
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    let kib = [UInt8](repeating: 0x4B, count: 1024)

    func replica(_ id: NodeID, view: ChainView? = nil) -> Replica {
        var r = Replica(id: id, lastSeq: 0)
        _ = r.on(.viewChanged(view ?? self.view))
        _ = r.on(.lease(until: 1_000_000))
        return r
    }

    /// The head `a` of `view` takes a write and commits it (b acked it, a fsynced it).
    func write(_ a: inout Replica, _ client: ClientRef, _ key: String, _ value: [UInt8]?, request: RequestID,
               stored: VersionedValue? = nil, ifVersion: UInt64? = nil) -> [ReplicaAction] {
        _ = a.on(.successorLinkUp("b"))
        _ = a.on(.ack(from: "b", epoch: a.view.epoch, seq: a.stable))
        let sent = a.on(.clientWrite(client, key: key, value: value, stored: a.needsStoredValue(for: key) ? stored : nil,
                                     request: request, ifVersion: ifVersion))
        _ = a.on(.persisted(through: a.received))
        return sent + a.on(.ack(from: "b", epoch: a.view.epoch, seq: a.received))
    }

    func testARetryOfACommittedPutGetsItsOldValueFromTheHistoryWhateverItsSize() {
        var a = replica("a")
        let first = RequestID(client: 5, seq: 1), second = RequestID(client: 5, seq: 2)
        XCTAssertTrue(write(&a, c(1), "k", kib, request: first, stored: nil).contains(.reply(c(1), .put(old: nil, version: 1))))
        let big = [UInt8](repeating: 0x42, count: CoreLimits.outcomeValueKeptMax * 8)
        let sent = write(&a, c(2), "k", big, request: second)
        XCTAssertTrue(sent.contains(.reply(c(2), .put(old: kib, version: 2))))
        XCTAssertTrue(sent.contains(.persist(Update(seq: 2, key: "k", value: big, request: second),
                                             outcome: WriteOutcome(seq: 2, request: second, kind: .putOldValueNotKept, old: nil)!)),
                      "the outcome on disk keeps no old value over outcomeValueKeptMax")
        XCTAssertEqual(a.on(.clientWrite(c(3), key: "k", value: big, stored: nil, request: second)),
                       [.reply(c(3), .put(old: kib, version: 2))], "the retry gets the 1 KiB old value from memory, nothing is applied")
        XCTAssertEqual(a.on(.clientWrite(c(4), key: "k", value: kib, stored: nil, request: first)),
                       [.reply(c(4), .put(old: nil, version: 1))])
        XCTAssertEqual(a.received, 2, "no retry was sequenced")
    }

    func testRetriesOfDeletesAndFailedConditionsGetTheirFirstReplies() {
        var a = replica("a")
        _ = write(&a, c(1), "k", kib, request: RequestID(client: 1, seq: 1))
        let delete = RequestID(client: 1, seq: 2), absent = RequestID(client: 1, seq: 3), failed = RequestID(client: 1, seq: 4)
        _ = write(&a, c(2), "k", nil, request: delete)
        _ = write(&a, c(3), "k", nil, request: absent)
        _ = write(&a, c(4), "k", kib, request: failed, ifVersion: 1)
        XCTAssertEqual(a.on(.clientWrite(c(5), key: "k", value: nil, stored: nil, request: delete)),
                       [.reply(c(5), .delete(existed: true, version: 2))])
        XCTAssertEqual(a.on(.clientWrite(c(6), key: "k", value: nil, stored: nil, request: absent)),
                       [.reply(c(6), .delete(existed: false, version: 3))])
        XCTAssertEqual(a.on(.clientWrite(c(7), key: "k", value: kib, stored: nil, request: failed, ifVersion: 1)),
                       [.reply(c(7), .conditionFailed(current: 0))], "the first reply, though the condition would fail the same now")
    }

    /// The middle computed each write's old value from its own history and storage; once it is
    /// the head, it answers a retry of a write the old head sequenced with that old value.
    func testANewHeadAnswersARetryFromItsHistory() {
        var b = replica("b")
        let r1 = RequestID(client: 9, seq: 1), r2 = RequestID(client: 9, seq: 2)
        _ = b.on(.forward(from: "a", epoch: 1, Update(seq: 1, key: "k", value: kib, request: r1), stored: VersionedValue(bytes("S"), version: 0)))
        _ = b.on(.forward(from: "a", epoch: 1, Update(seq: 2, key: "k", value: bytes("new"), request: r2), stored: nil))
        _ = b.on(.persisted(through: 2))
        _ = b.on(.successorLinkUp("c"))
        _ = b.on(.ack(from: "c", epoch: 1, seq: 2))
        _ = b.on(.viewChanged(ChainView(epoch: 2, members: ["b", "c"])))
        XCTAssertEqual(b.on(.clientWrite(c(1), key: "k", value: bytes("new"), stored: nil, request: r2)),
                       [.reply(c(1), .put(old: kib, version: 2))])
        XCTAssertEqual(b.on(.clientWrite(c(2), key: "k", value: kib, stored: nil, request: r1)),
                       [.reply(c(2), .put(old: bytes("S"), version: 1))], "the old value it read from storage for the first")
    }

    /// Once the history no longer holds the write, the retry is answered from disk.
    func testARetryOfAWriteTheHistoryNoLongerHoldsIsAnsweredFromDisk() {
        var a = replica("a")
        let r = RequestID(client: 3, seq: 1)
        _ = write(&a, c(1), "k", kib, request: r)
        let big = [UInt8](repeating: 7, count: CoreLimits.recentBytesMax / 4)
        var seq: UInt64 = 1
        while a.historyReply(seq: 1) != nil, seq < 10 {
            seq += 1
            _ = write(&a, c(seq), "filler\(seq)", big, request: RequestID(client: 3, seq: seq))
        }
        XCTAssertLessThan(seq, 10, "four big updates push the first out of the history")
        XCTAssertEqual(a.on(.clientWrite(c(99), key: "k", value: kib, stored: nil, request: r)), [.replyStored(c(99), seq: 1)])
    }

    /// Old values read from storage are buffers of their own: the history keeps at most
    /// `recentReplacedBytesMax` of them, dropping the oldest past that (their retries are then
    /// answered from disk) while it keeps every update for catch-up and watches.
    func testReplacedValuesAreBoundedInBytesWithoutShorteningTheHistory() {
        var a = replica("a")
        let quarter = CoreLimits.recentReplacedBytesMax / 4
        for i in 1...8 {
            let stored = VersionedValue([UInt8](repeating: UInt8(i), count: quarter), version: 0)
            _ = write(&a, c(UInt64(i)), "key\(i)", bytes("v"), request: RequestID(client: 2, seq: UInt64(i)), stored: stored)
            XCTAssertLessThanOrEqual(a.recentReplacedBytes, CoreLimits.recentReplacedBytesMax)
            XCTAssertEqual(a.recent.count, a.recentEntries.count)
        }
        XCTAssertEqual(a.recent.count, 8, "the history keeps every update")
        XCTAssertEqual(a.historyReply(seq: 8), .put(old: [UInt8](repeating: 8, count: quarter), version: 8))
        XCTAssertEqual(a.historyReply(seq: 5), .put(old: [UInt8](repeating: 5, count: quarter), version: 5))
        XCTAssertNil(a.historyReply(seq: 4), "the oldest old values were dropped: answered from disk")
        XCTAssertEqual(a.on(.clientWrite(c(20), key: "key1", value: bytes("v"), stored: nil, request: RequestID(client: 2, seq: 1))),
                       [.replyStored(c(20), seq: 1)])
        XCTAssertEqual(a.committedChanges(after: 0, matching: { _ in true }, limit: 100, byteLimit: 1 << 20),
                       .changes((1...8).map { Change(key: "key\($0)", value: bytes("v"), version: UInt64($0)) }, through: 8),
                       "a watcher still reads every change")
        // A delete of a key whose value came from storage keeps no bytes: nothing to drop.
        _ = write(&a, c(30), "key9", nil, request: RequestID(client: 2, seq: 9), stored: VersionedValue([UInt8](repeating: 9, count: quarter), version: 0))
        XCTAssertEqual(a.historyReply(seq: 9), .delete(existed: true, version: 9))
        XCTAssertEqual(a.historyReply(seq: 5), .put(old: [UInt8](repeating: 5, count: quarter), version: 5))
    }

    /// After a restart the history is empty: every retry is answered from disk.
    func testARestartedReplicaAnswersRetriesFromDisk() {
        let r = RequestID(client: 4, seq: 1)
        var restarted = Replica(id: "a", lastSeq: 1, view: ChainView(epoch: 1, members: ["a"]), requests: [(r, 1)])
        _ = restarted.on(.lease(until: 1_000_000))
        XCTAssertNil(restarted.historyReply(seq: 1))
        XCTAssertEqual(restarted.on(.clientWrite(c(1), key: "k", value: kib, stored: nil, request: r)), [.replyStored(c(1), seq: 1)])
    }
}

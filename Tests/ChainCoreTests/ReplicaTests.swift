import XCTest
@testable import ChainCore

/// Drives the write path through events and compares whole action lists: no sockets, no sleeps.
final class ReplicaTests: XCTestCase {
    let view = ChainView(epoch: 1, members: ["a", "b", "c"])
    func c(_ n: UInt64) -> ClientRef { ClientRef(connection: 1, request: n) }
    func u(_ seq: UInt64, _ key: String, _ v: String?) -> Update { Update(seq: seq, key: key, value: v.map { Array($0.utf8) }) }
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    func vv(_ s: String, _ version: UInt64) -> VersionedValue { VersionedValue(bytes(s), version: version) }

    /// A node of `view` whose successor link is up and has reported its position, and which
    /// holds a read lease up to tick 1000.
    func node(_ id: NodeID, lastSeq: UInt64 = 0) -> Replica {
        var r = Replica(id: id, lastSeq: lastSeq)
        _ = r.on(.viewChanged(view))
        _ = r.on(.lease(until: 1000))
        if let s = view.successor(of: id) {
            _ = r.on(.successorLinkUp(s))
            _ = r.on(.ack(from: s, epoch: 1, seq: lastSeq))
        }
        return r
    }

    func testViewChangeRecordsEpochAndConnectsSuccessor() {
        var a = Replica(id: "a", lastSeq: 0)
        XCTAssertEqual(a.on(.viewChanged(view)), [.recordEpoch(1), .connectSuccessor("b")])
        XCTAssertEqual(a.on(.viewChanged(view)), [], "an equal epoch is not a change")
        var c = Replica(id: "c", lastSeq: 0)
        XCTAssertEqual(c.on(.viewChanged(view)), [.recordEpoch(1), .connectSuccessor(nil)], "the tail has no successor: no link")
    }

    func testHeadPipelinesWithoutWaiting() {
        var a = node("a")
        XCTAssertEqual(a.on(.clientWrite(c(1), key: "k", value: bytes("1"), stored: nil, request: nil)),
                       [.forward(to: "b", epoch: 1, u(1, "k", "1")), .persist(u(1, "k", "1"))])
        // The second write goes out before the first is acknowledged, and reports the first as old.
        XCTAssertEqual(a.on(.clientWrite(c(2), key: "k", value: bytes("2"), stored: nil, request: nil)),
                       [.forward(to: "b", epoch: 1, u(2, "k", "2")), .persist(u(2, "k", "2"))])
        XCTAssertEqual(a.on(.persisted(through: 2)), [], "the head's own fsync commits nothing")
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 2)),
                       [.reply(c(1), .put(old: nil, version: 1)), .reply(c(2), .put(old: bytes("1"), version: 2))])
        XCTAssertEqual(a.inflightCount, 0)
    }

    func testAckBeforeLocalFsyncWaitsForFsync() {
        var a = node("a")
        _ = a.on(.clientWrite(c(1), key: "k", value: bytes("1"), stored: nil, request: nil))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 1)), [], "not on the head's disk yet")
        XCTAssertEqual(a.on(.persisted(through: 1)), [.reply(c(1), .put(old: nil, version: 1))])
    }

    func testOutOfOrderAndCumulativeAcks() {
        var a = node("a")
        for i in 1...3 { _ = a.on(.clientWrite(c(UInt64(i)), key: "k\(i)", value: bytes("v"), stored: nil, request: nil)) }
        _ = a.on(.persisted(through: 3))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 2)), [.reply(c(1), .put(old: nil, version: 1)), .reply(c(2), .put(old: nil, version: 2))])
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 1)), [], "a late smaller ack changes nothing")
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 3)), [.reply(c(3), .put(old: nil, version: 3))])
    }

    func testMiddleForwardsPersistsAndAcksOnlyWhenDurableAndAcked() {
        var b = node("b")
        XCTAssertEqual(b.on(.forward(from: "a", epoch: 1, u(1, "k", "x"), stored: nil)),
                       [.forward(to: "c", epoch: 1, u(1, "k", "x")), .persist(u(1, "k", "x"))])
        XCTAssertEqual(b.on(.ack(from: "c", epoch: 1, seq: 1)), [])
        XCTAssertEqual(b.on(.persisted(through: 1)), [.ack(to: "a", epoch: 1, seq: 1)])
    }

    func testTailAcksWhenDurable() {
        var t = node("c")
        XCTAssertEqual(t.on(.forward(from: "b", epoch: 1, u(1, "k", "x"), stored: nil)), [.persist(u(1, "k", "x"))])
        XCTAssertEqual(t.on(.forward(from: "b", epoch: 1, u(2, "k", "y"), stored: nil)), [.persist(u(2, "k", "y"))])
        XCTAssertEqual(t.on(.persisted(through: 2)), [.ack(to: "b", epoch: 1, seq: 2)])
    }

    func testDuplicateForwardIsIgnoredAndGapClosesLink() {
        var t = node("c")
        _ = t.on(.forward(from: "b", epoch: 1, u(1, "k", "x"), stored: nil))
        XCTAssertEqual(t.on(.forward(from: "b", epoch: 1, u(1, "k", "x"), stored: nil)), [])
        XCTAssertEqual(t.on(.forward(from: "b", epoch: 1, u(3, "k", "z"), stored: nil)), [.closeInbound("b")])
        XCTAssertEqual(t.received, 1)
    }

    func testForwardFromWrongNodeOrEpochIsRefused() {
        var t = node("c")
        XCTAssertEqual(t.on(.forward(from: "a", epoch: 1, u(1, "k", "x"), stored: nil)), [.closeInbound("a")])
        XCTAssertEqual(t.on(.forward(from: "b", epoch: 0, u(1, "k", "x"), stored: nil)), [.closeInbound("b")])
        XCTAssertEqual(t.on(.forward(from: "b", epoch: 2, u(1, "k", "x"), stored: nil)), [.closeInbound("b")])
        XCTAssertEqual(t.received, 0)
    }

    func testAckFromWrongNodeOrEpochIsIgnored() {
        var a = node("a")
        _ = a.on(.clientWrite(c(1), key: "k", value: bytes("1"), stored: nil, request: nil))
        _ = a.on(.persisted(through: 1))
        XCTAssertEqual(a.on(.ack(from: "c", epoch: 1, seq: 1)), [])
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 0, seq: 1)), [])
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 9)), [], "ack beyond what was sent")
        XCTAssertEqual(a.inflightCount, 1)
    }

    func testReadsSeeCommittedStateOnly() {
        var a = node("a")
        XCTAssertEqual(a.read("k", stored: vv("old", 0), now: 1), .value(vv("old", 0)))
        _ = a.on(.clientWrite(c(1), key: "k", value: bytes("new"), stored: vv("old", 0), request: nil))
        XCTAssertFalse(a.needsStoredValue(for: "k"))
        // Storage may already hold "new": the core must not look at it.
        XCTAssertEqual(a.read("k", stored: vv("new", 1), now: 1), .value(vv("old", 0)))
        _ = a.on(.clientWrite(c(2), key: "k", value: bytes("newer"), stored: nil, request: nil))
        _ = a.on(.persisted(through: 2))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 1)), [.reply(c(1), .put(old: bytes("old"), version: 1))])
        XCTAssertEqual(a.read("k", stored: nil, now: 1), .value(vv("new", 1)), "the first write is now committed")
        _ = a.on(.ack(from: "b", epoch: 1, seq: 2))
        // Committed: storage holds "newer", and so does the history of committed updates, which
        // answers instead of storage (ReplicaHistoryValueTests).
        XCTAssertFalse(a.needsStoredValue(for: "k"))
        XCTAssertEqual(a.read("k", stored: nil, now: 1), .value(vv("newer", 2)))
        XCTAssertTrue(a.needsStoredValue(for: "other"))
    }

    /// A delete reports whether the key existed, and goes down the chain even when it did not:
    /// an answer given at once would be a read without the lease (a replaced head cut off from
    /// ZooKeeper answered "absent" for keys its successor had written: torture, CI seed 3).
    func testDeleteReportsExistenceAndAMissingKeysDeleteGoesDownTheChain() {
        var a = node("a")
        XCTAssertEqual(a.on(.clientWrite(c(1), key: "k", value: nil, stored: nil, request: nil)),
                       [.forward(to: "b", epoch: 1, u(1, "k", nil)), .persist(u(1, "k", nil))])
        XCTAssertEqual(a.on(.clientWrite(c(2), key: "k", value: nil, stored: nil, request: nil)),
                       [.forward(to: "b", epoch: 1, u(2, "k", nil)), .persist(u(2, "k", nil))])
        _ = a.on(.persisted(through: 2))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 2)), [.reply(c(1), .delete(existed: false, version: 1)), .reply(c(2), .delete(existed: false, version: 2))])
        XCTAssertEqual(a.on(.clientWrite(c(3), key: "j", value: nil, stored: vv("v", 0), request: nil)),
                       [.forward(to: "b", epoch: 1, u(3, "j", nil)), .persist(u(3, "j", nil))])
        _ = a.on(.persisted(through: 3))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 3)), [.reply(c(3), .delete(existed: true, version: 3))])
    }

    /// Regression (torture seed 1): a delete in flight made a second delete answer "absent" at
    /// once, while reads still returned the committed value: not linearizable.
    func testDeleteBehindAnInflightDeleteWaitsForTheChain() {
        var a = node("a")
        XCTAssertEqual(a.on(.clientWrite(c(1), key: "k", value: nil, stored: vv("v", 0), request: nil)),
                       [.forward(to: "b", epoch: 1, u(1, "k", nil)), .persist(u(1, "k", nil))])
        XCTAssertEqual(a.on(.clientWrite(c(2), key: "k", value: nil, stored: nil, request: nil)),
                       [.forward(to: "b", epoch: 1, u(2, "k", nil)), .persist(u(2, "k", nil))],
                       "sequenced behind the first delete, not answered from uncommitted state")
        XCTAssertEqual(a.read("k", stored: nil, now: 1), .value(vv("v", 0)), "reads still see the committed value")
        _ = a.on(.persisted(through: 2))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 2)),
                       [.reply(c(1), .delete(existed: true, version: 1)), .reply(c(2), .delete(existed: false, version: 2))])
    }

    func testNonHeadRefusesClients() {
        var b = node("b")
        XCTAssertEqual(b.on(.clientWrite(c(1), key: "k", value: bytes("v"), stored: nil, request: nil)), [.reply(c(1), .error(.notHead(head: "a")))])
        XCTAssertEqual(b.read("k", stored: nil, now: 1), .error(.notHead(head: "a")))
    }

    func testSingleNodeChainCommitsOnFsync() {
        var s = Replica(id: "a", lastSeq: 5)
        XCTAssertEqual(s.on(.viewChanged(ChainView(epoch: 3, members: ["a"]))), [.recordEpoch(3), .connectSuccessor(nil)])
        XCTAssertEqual(s.on(.clientWrite(c(1), key: "k", value: bytes("v"), stored: nil, request: nil)), [.persist(u(6, "k", "v"))])
        XCTAssertEqual(s.on(.persisted(through: 6)), [.reply(c(1), .put(old: nil, version: 6))])
    }

    func testReconnectWaitsForPositionThenResendsFromIt() {
        var a = node("a")
        for i in 1...3 { _ = a.on(.clientWrite(c(UInt64(i)), key: "k", value: bytes("\(i)"), stored: nil, request: nil)) }
        XCTAssertEqual(a.on(.successorLinkUp("b")), [], "nothing is sent before the successor says where it is")
        XCTAssertEqual(a.on(.clientWrite(c(4), key: "k", value: bytes("4"), stored: nil, request: nil)), [.persist(u(4, "k", "4"))],
                       "not forwarded while the position is unknown")
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 1)),
                       [.forward(to: "b", epoch: 1, u(2, "k", "2")), .forward(to: "b", epoch: 1, u(3, "k", "3")),
                        .forward(to: "b", epoch: 1, u(4, "k", "4"))])
        XCTAssertEqual(a.on(.clientWrite(c(5), key: "k", value: bytes("5"), stored: nil, request: nil)),
                       [.forward(to: "b", epoch: 1, u(5, "k", "5")), .persist(u(5, "k", "5"))])
        XCTAssertEqual(a.on(.successorLinkUp("c")), [], "not our successor")
    }

    func testCatchUpIncludesCommittedUpdatesFromRecent() {
        var a = node("a")
        for i in 1...3 { _ = a.on(.clientWrite(c(UInt64(i)), key: "k\(i)", value: bytes("v"), stored: nil, request: nil)) }
        _ = a.on(.persisted(through: 3))
        _ = a.on(.ack(from: "b", epoch: 1, seq: 2))  // 1 and 2 committed, 3 in flight
        _ = a.on(.successorLinkUp("b"))
        // A successor that lost everything after 1 (a new node after a snapshot at 1) gets 2 and 3.
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 1)),
                       [.forward(to: "b", epoch: 1, u(2, "k2", "v")), .forward(to: "b", epoch: 1, u(3, "k3", "v"))])
    }

    func testSuccessorBehindWhatIsKeptNeedsTransfer() {
        var a = node("a", lastSeq: 100)  // restarted: seqs up to 100 are on disk only
        _ = a.on(.clientWrite(c(1), key: "k", value: bytes("v"), stored: nil, request: nil))
        _ = a.on(.successorLinkUp("b"))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 50)), [.successorTooFarBehind("b", position: 50)])
    }

    func testRetriedRequestIsNotAppliedTwice() {
        var a = node("a")
        let r = RequestID(client: 9, seq: 1)
        XCTAssertEqual(a.on(.clientWrite(c(1), key: "k", value: bytes("v"), stored: nil, request: r)),
                       [.forward(to: "b", epoch: 1, Update(seq: 1, key: "k", value: bytes("v"), request: r)),
                        .persist(Update(seq: 1, key: "k", value: bytes("v"), request: r), outcome: WriteOutcome(reply: .put(old: nil, version: 1), seq: 1, request: r))])
        XCTAssertEqual(a.on(.clientWrite(c(2), key: "k", value: bytes("v"), stored: nil, request: r)), [], "retry joins the write in flight")
        _ = a.on(.persisted(through: 1))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 1)), [.reply(c(1), .put(old: nil, version: 1)), .reply(c(2), .put(old: nil, version: 1))])
        XCTAssertEqual(a.on(.clientWrite(c(3), key: "k", value: bytes("v"), stored: vv("v", 1), request: r)), [.reply(c(3), .put(old: nil, version: 1))],
                       "a retry after commit gets the original outcome (from the history), not a second application")
    }

    /// Torture seeds 11 and 24: a retry that reached a head restarted after a total failure was
    /// applied a second time (the put reported its own value as the old one). Every replica now
    /// stores each request's outcome with the write, and a restarted core starts from them.
    func testOutcomesPersistedWithTheWriteAnswerRetriesAfterARestart() {
        var b = node("b")  // a middle server computes and stores the outcome too
        let r = RequestID(client: 7, seq: 3)
        let update = Update(seq: 1, key: "k", value: bytes("new"), request: r)
        XCTAssertEqual(b.on(.forward(from: "a", epoch: 1, update, stored: vv("old", 0))),
                       [.forward(to: "c", epoch: 1, update), .persist(update, outcome: WriteOutcome(reply: .put(old: bytes("old"), version: 1), seq: update.seq, request: r))])
        let d = RequestID(client: 7, seq: 4)
        let delete = Update(seq: 2, key: "k", value: nil, request: d)
        XCTAssertEqual(b.on(.forward(from: "a", epoch: 1, delete, stored: nil)),
                       [.forward(to: "c", epoch: 1, delete), .persist(delete, outcome: WriteOutcome(reply: .delete(existed: true, version: 2), seq: delete.seq, request: d))],
                       "the outcome follows the write in flight before it, not storage")

        // The whole chain restarted; b restarts it from its disk, with the stored outcomes.
        var restarted = Replica(id: "b", lastSeq: 2, view: ChainView(epoch: 2, members: ["b"]), requests: [(r, 1), (d, 2)])
        XCTAssertEqual(restarted.on(.clientWrite(c(1), key: "k", value: bytes("new"), stored: nil, request: r)),
                       [.replyStored(c(1), seq: 1)], "answered from the stored outcome, not applied again")
        XCTAssertEqual(restarted.on(.clientWrite(c(2), key: "k", value: nil, stored: nil, request: d)),
                       [.replyStored(c(2), seq: 2)])
        XCTAssertEqual(restarted.received, 2, "nothing was sequenced")
    }

    /// Requests are remembered for the writes of the last requestsRememberedMax sequence numbers,
    /// the window storage keeps their outcomes for, whatever writes without ids came in between.
    func testRequestsAreForgottenWithTheOutcomeWindow() {
        let window = UInt64(CoreLimits.requestsRememberedMax)
        let r = RequestID(client: 1, seq: 1)
        var kept = Replica(id: "a", lastSeq: window, view: ChainView(epoch: 1, members: ["a"]), requests: [(r, 1)])
        XCTAssertEqual(kept.on(.clientWrite(c(1), key: "k", value: bytes("v"), stored: nil, request: r)), [.replyStored(c(1), seq: 1)])
        var a = Replica(id: "a", lastSeq: window, view: ChainView(epoch: 1, members: ["a"]), requests: [(r, 1)])
        _ = a.on(.clientWrite(c(2), key: "x", value: bytes("v"), stored: nil, request: nil))  // seq window + 1
        XCTAssertEqual(a.on(.clientWrite(c(3), key: "k", value: bytes("v"), stored: nil, request: r)),
                       [.persist(Update(seq: window + 2, key: "k", value: bytes("v"), request: r), outcome: WriteOutcome(reply: .put(old: nil, version: window + 2), seq: window + 2, request: r))],
                       "outside the window: taken as a new write (storage pruned its outcome too)")
    }

    func testNewHeadRecognizesRetryOfWriteSequencedByOldHead() {
        var b = node("b")
        let r = RequestID(client: 5, seq: 42)
        _ = b.on(.forward(from: "a", epoch: 1, Update(seq: 1, key: "k", value: bytes("x"), request: r), stored: vv("w", 0)))
        _ = b.on(.viewChanged(ChainView(epoch: 2, members: ["b", "c"])))
        _ = b.on(.lease(until: 1000))
        // The client retries at the new head while the write is still in flight there.
        XCTAssertEqual(b.on(.clientWrite(c(7), key: "k", value: bytes("x"), stored: nil, request: r)), [])
        _ = b.on(.successorLinkUp("c"))
        _ = b.on(.ack(from: "c", epoch: 2, seq: 1))
        XCTAssertEqual(b.on(.persisted(through: 1)), [.reply(c(7), .put(old: bytes("w"), version: 1))], "the old value the first head would have reported")
    }

    func testReadsNeedALease() {
        var a = Replica(id: "a", lastSeq: 0)
        _ = a.on(.viewChanged(ChainView(epoch: 1, members: ["a"])))
        XCTAssertEqual(a.read("k", stored: nil, now: 0), .error(.noLease))
        _ = a.on(.lease(until: 10))
        XCTAssertEqual(a.read("k", stored: nil, now: 9), .value(nil))
        XCTAssertEqual(a.read("k", stored: nil, now: 10), .error(.noLease))
        _ = a.on(.lease(until: 5))
        XCTAssertEqual(a.read("k", stored: nil, now: 9), .value(nil), "a shorter lease does not cut a longer one")
    }

    /// A stopping server revokes its lease before it closes its ZooKeeper session: the leader
    /// drops a member whose znode vanished with its session without waiting out a lease.
    func testARevokedLeaseEndsReadsAndNoRenewalBringsItBack() {
        var a = Replica(id: "a", lastSeq: 0)
        _ = a.on(.viewChanged(ChainView(epoch: 1, members: ["a"])))
        _ = a.on(.lease(until: 100))
        XCTAssertEqual(a.read("k", stored: nil, now: 1), .value(nil))
        XCTAssertEqual(a.on(.leaseRevoked), [])
        XCTAssertEqual(a.read("k", stored: nil, now: 1), .error(.noLease))
        _ = a.on(.lease(until: 200))
        XCTAssertEqual(a.read("k", stored: nil, now: 2), .error(.noLease), "a renewal in flight when the server stopped")
    }

    func testInflightLimitRefusesWrites() {
        var a = node("a")
        for i in 0..<CoreLimits.inflightMax { _ = a.on(.clientWrite(c(UInt64(i)), key: "k\(i)", value: [1], stored: nil, request: nil)) }
        XCTAssertEqual(a.on(.clientWrite(c(99_999), key: "x", value: [1], stored: nil, request: nil)), [.reply(c(99_999), .error(.overloaded))])
    }

    func testPredecessorLinkUpGetsCurrentAck() {
        var b = node("b")
        _ = b.on(.forward(from: "a", epoch: 1, u(1, "k", "x"), stored: nil))
        _ = b.on(.persisted(through: 1))
        _ = b.on(.ack(from: "c", epoch: 1, seq: 1))
        XCTAssertEqual(b.on(.predecessorLink("a", up: true)), [.ack(to: "a", epoch: 1, seq: 1)])
        XCTAssertEqual(b.on(.predecessorLink("x", up: true)), [])
    }
}

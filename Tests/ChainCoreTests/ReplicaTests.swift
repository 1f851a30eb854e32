import XCTest
@testable import ChainCore

/// Drives the write path through events and compares whole action lists: no sockets, no sleeps.
final class ReplicaTests: XCTestCase {
    let view = ChainView(epoch: 1, members: ["a", "b", "c"])
    func c(_ n: UInt64) -> ClientRef { ClientRef(connection: 1, request: n) }
    func u(_ seq: UInt64, _ key: String, _ v: String?) -> Update { Update(seq: seq, key: key, value: v.map { Array($0.utf8) }) }
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func node(_ id: NodeID, lastSeq: UInt64 = 0) -> Replica {
        var r = Replica(id: id, lastSeq: lastSeq)
        _ = r.on(.viewChanged(view))
        return r
    }

    func testViewChangeRecordsEpochAndConnectsSuccessor() {
        var a = Replica(id: "a", lastSeq: 0)
        XCTAssertEqual(a.on(.viewChanged(view)), [.recordEpoch(1), .connectSuccessor("b")])
        XCTAssertEqual(a.on(.viewChanged(view)), [], "an equal epoch is not a change")
        var c = Replica(id: "c", lastSeq: 0)
        XCTAssertEqual(c.on(.viewChanged(view)), [.recordEpoch(1)], "the tail has no successor to connect")
    }

    func testHeadPipelinesWithoutWaiting() {
        var a = node("a")
        XCTAssertEqual(a.on(.clientWrite(c(1), key: "k", value: bytes("1"), stored: nil)),
                       [.forward(to: "b", epoch: 1, u(1, "k", "1")), .persist(u(1, "k", "1"))])
        // The second write goes out before the first is acknowledged, and reports the first as old.
        XCTAssertEqual(a.on(.clientWrite(c(2), key: "k", value: bytes("2"), stored: nil)),
                       [.forward(to: "b", epoch: 1, u(2, "k", "2")), .persist(u(2, "k", "2"))])
        XCTAssertEqual(a.on(.persisted(through: 2)), [], "the head's own fsync commits nothing")
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 2)),
                       [.reply(c(1), .put(old: nil)), .reply(c(2), .put(old: bytes("1")))])
        XCTAssertEqual(a.inflightCount, 0)
    }

    func testAckBeforeLocalFsyncWaitsForFsync() {
        var a = node("a")
        _ = a.on(.clientWrite(c(1), key: "k", value: bytes("1"), stored: nil))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 1)), [], "not on the head's disk yet")
        XCTAssertEqual(a.on(.persisted(through: 1)), [.reply(c(1), .put(old: nil))])
    }

    func testOutOfOrderAndCumulativeAcks() {
        var a = node("a")
        for i in 1...3 { _ = a.on(.clientWrite(c(UInt64(i)), key: "k\(i)", value: bytes("v"), stored: nil)) }
        _ = a.on(.persisted(through: 3))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 2)), [.reply(c(1), .put(old: nil)), .reply(c(2), .put(old: nil))])
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 1)), [], "a late smaller ack changes nothing")
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 3)), [.reply(c(3), .put(old: nil))])
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
        _ = a.on(.clientWrite(c(1), key: "k", value: bytes("1"), stored: nil))
        _ = a.on(.persisted(through: 1))
        XCTAssertEqual(a.on(.ack(from: "c", epoch: 1, seq: 1)), [])
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 0, seq: 1)), [])
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 9)), [], "ack beyond what was sent")
        XCTAssertEqual(a.inflightCount, 1)
    }

    func testReadsSeeCommittedStateOnly() {
        var a = node("a")
        XCTAssertEqual(a.read("k", stored: bytes("old")), .value(bytes("old")))
        _ = a.on(.clientWrite(c(1), key: "k", value: bytes("new"), stored: bytes("old")))
        XCTAssertFalse(a.needsStoredValue(for: "k"))
        // Storage may already hold "new": the core must not look at it.
        XCTAssertEqual(a.read("k", stored: bytes("new")), .value(bytes("old")))
        _ = a.on(.clientWrite(c(2), key: "k", value: bytes("newer"), stored: nil))
        _ = a.on(.persisted(through: 2))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 1)), [.reply(c(1), .put(old: bytes("old")))])
        XCTAssertEqual(a.read("k", stored: nil), .value(bytes("new")), "the first write is now committed")
        _ = a.on(.ack(from: "b", epoch: 1, seq: 2))
        XCTAssertTrue(a.needsStoredValue(for: "k"))
    }

    func testDeleteReportsExistenceAndMissingDeleteAnswersAtOnce() {
        var a = node("a")
        XCTAssertEqual(a.on(.clientWrite(c(1), key: "k", value: nil, stored: nil)), [.reply(c(1), .delete(existed: false))])
        XCTAssertEqual(a.on(.clientWrite(c(2), key: "k", value: nil, stored: bytes("v"))),
                       [.forward(to: "b", epoch: 1, u(1, "k", nil)), .persist(u(1, "k", nil))])
        _ = a.on(.persisted(through: 1))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 1)), [.reply(c(2), .delete(existed: true))])
    }

    func testNonHeadRefusesClients() {
        var b = node("b")
        XCTAssertEqual(b.on(.clientWrite(c(1), key: "k", value: bytes("v"), stored: nil)), [.reply(c(1), .error(.notHead(head: "a")))])
        XCTAssertEqual(b.read("k", stored: nil), .error(.notHead(head: "a")))
    }

    func testSingleNodeChainCommitsOnFsync() {
        var s = Replica(id: "a", lastSeq: 5)
        XCTAssertEqual(s.on(.viewChanged(ChainView(epoch: 3, members: ["a"]))), [.recordEpoch(3)])
        XCTAssertEqual(s.on(.clientWrite(c(1), key: "k", value: bytes("v"), stored: nil)), [.persist(u(6, "k", "v"))])
        XCTAssertEqual(s.on(.persisted(through: 6)), [.reply(c(1), .put(old: nil))])
    }

    func testResendOnReconnectSkipsAcknowledged() {
        var a = node("a")
        for i in 1...3 { _ = a.on(.clientWrite(c(UInt64(i)), key: "k", value: bytes("\(i)"), stored: nil)) }
        _ = a.on(.ack(from: "b", epoch: 1, seq: 1))  // not durable here yet: stays in flight
        XCTAssertEqual(a.on(.successorLinkUp("b")),
                       [.forward(to: "b", epoch: 1, u(2, "k", "2")), .forward(to: "b", epoch: 1, u(3, "k", "3"))])
        XCTAssertEqual(a.on(.successorLinkUp("c")), [], "not our successor")
    }

    func testInflightLimitRefusesWrites() {
        var a = node("a")
        for i in 0..<CoreLimits.inflightMax { _ = a.on(.clientWrite(c(UInt64(i)), key: "k\(i)", value: [1], stored: nil)) }
        XCTAssertEqual(a.on(.clientWrite(c(99_999), key: "x", value: [1], stored: nil)), [.reply(c(99_999), .error(.overloaded))])
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

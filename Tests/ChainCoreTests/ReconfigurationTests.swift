import XCTest
@testable import ChainCore

/// View changes as the leader makes them on a failure: the core's part of chain repair.
final class ReconfigurationTests: XCTestCase {
    func c(_ n: UInt64) -> ClientRef { ClientRef(connection: 7, request: n) }
    func u(_ seq: UInt64, _ v: String) -> Update { Update(seq: seq, key: "k", value: Array(v.utf8)) }

    func testMiddleFailureResendsUnacknowledgedToNewSuccessor() {
        var a = Replica(id: "a", lastSeq: 0)
        _ = a.on(.viewChanged(ChainView(epoch: 1, members: ["a", "b", "c"])))
        _ = a.on(.successorLinkUp("b"))
        _ = a.on(.ack(from: "b", epoch: 1, seq: 0))
        _ = a.on(.clientWrite(c(1), key: "k", value: Array("1".utf8), stored: nil, request: nil))
        _ = a.on(.clientWrite(c(2), key: "k", value: Array("2".utf8), stored: nil, request: nil))
        _ = a.on(.persisted(through: 2))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 1, seq: 1)), [.reply(c(1), .put(old: nil, version: 1))])
        XCTAssertEqual(a.on(.viewChanged(ChainView(epoch: 2, members: ["a", "c"]))), [.recordEpoch(2), .connectSuccessor("c")])
        XCTAssertEqual(a.on(.successorLinkUp("c")), [])
        // c had received 1 from b; it resumes from there.
        XCTAssertEqual(a.on(.ack(from: "c", epoch: 2, seq: 1)), [.forward(to: "c", epoch: 2, u(2, "2"))])
        XCTAssertEqual(a.on(.ack(from: "c", epoch: 2, seq: 2)), [.reply(c(2), .put(old: Array("1".utf8), version: 2))])
    }

    func testTailFailureMakesPredecessorCommitWhatItHolds() {
        var b = Replica(id: "b", lastSeq: 0)
        _ = b.on(.viewChanged(ChainView(epoch: 1, members: ["a", "b", "c"])))
        _ = b.on(.forward(from: "a", epoch: 1, u(1, "x"), stored: nil))
        _ = b.on(.persisted(through: 1))
        XCTAssertEqual(b.on(.viewChanged(ChainView(epoch: 2, members: ["a", "b"]))),
                       [.recordEpoch(2), .connectSuccessor(nil), .ack(to: "a", epoch: 2, seq: 1)])
    }

    func testHeadFailurePromotesSuccessorWhichCommitsInflight() {
        var b = Replica(id: "b", lastSeq: 0)
        _ = b.on(.viewChanged(ChainView(epoch: 1, members: ["a", "b", "c"])))
        _ = b.on(.forward(from: "a", epoch: 1, u(1, "x"), stored: nil))
        XCTAssertEqual(b.on(.viewChanged(ChainView(epoch: 2, members: ["b", "c"]))), [.recordEpoch(2), .connectSuccessor("c")])
        // The new head continues the sequence after what it received from the old head.
        _ = b.on(.successorLinkUp("c"))
        XCTAssertEqual(b.on(.ack(from: "c", epoch: 2, seq: 0)), [.forward(to: "c", epoch: 2, u(1, "x"))], "c gets what the old head sent b")
        XCTAssertEqual(b.on(.clientWrite(c(1), key: "k", value: Array("y".utf8), stored: nil, request: nil)),
                       [.forward(to: "c", epoch: 2, u(2, "y")), .persist(u(2, "y"))])
        _ = b.on(.persisted(through: 2))
        XCTAssertEqual(b.on(.ack(from: "c", epoch: 2, seq: 2)), [.reply(c(1), .put(old: Array("x".utf8), version: 2))])
    }

    func testDeposedHeadFailsItsPendingClients() {
        var a = Replica(id: "a", lastSeq: 0)
        _ = a.on(.viewChanged(ChainView(epoch: 1, members: ["a", "b"])))
        _ = a.on(.clientWrite(c(1), key: "k", value: [1], stored: nil, request: nil))
        XCTAssertEqual(a.on(.viewChanged(ChainView(epoch: 2, members: ["b"]))),
                       [.recordEpoch(2), .connectSuccessor(nil), .reply(c(1), .error(.chainChanged))])
        XCTAssertEqual(a.on(.clientWrite(c(2), key: "k", value: [1], stored: nil, request: nil)), [.reply(c(2), .error(.notHead(head: "b")))])
    }

    /// Regression (torture seed 2): the successor's position ack carried the epoch before a view
    /// change that kept the same successor; it was dropped and the link never became ready.
    func testPositionAckOfAnotherEpochStillStartsCatchUp() {
        var b = Replica(id: "b", lastSeq: 0)
        _ = b.on(.viewChanged(ChainView(epoch: 1, members: ["a", "b", "c"])))
        _ = b.on(.forward(from: "a", epoch: 1, u(1, "x"), stored: nil))
        _ = b.on(.successorLinkUp("c"))
        _ = b.on(.viewChanged(ChainView(epoch: 2, members: ["b", "c"])))  // a left; c is still the successor
        XCTAssertEqual(b.on(.ack(from: "c", epoch: 1, seq: 0)), [.forward(to: "c", epoch: 2, u(1, "x"))],
                       "the position is good whatever its epoch")
        _ = b.on(.persisted(through: 1))
        XCTAssertEqual(b.on(.ack(from: "c", epoch: 1, seq: 1)), [], "but a commit counts only in the current epoch")
        XCTAssertEqual(b.stable, 0)
        XCTAssertEqual(b.on(.ack(from: "c", epoch: 2, seq: 1)), [])
        XCTAssertEqual(b.stable, 1)
    }

    /// Regression (torture seed 3): across a new configuration with the same successor, the old
    /// link was kept and the two ends disagreed about positions for good. Now every configuration
    /// gets a fresh link and a fresh position, and the successor acks on every view change.
    func testSameSuccessorInANewConfigurationGetsAFreshLinkAndPosition() {
        var a = Replica(id: "a", lastSeq: 0)
        _ = a.on(.viewChanged(ChainView(epoch: 1, members: ["a", "b", "c"])))
        _ = a.on(.successorLinkUp("b"))
        _ = a.on(.ack(from: "b", epoch: 1, seq: 0))
        _ = a.on(.clientWrite(c(1), key: "k", value: [1], stored: nil, request: nil))
        XCTAssertEqual(a.on(.viewChanged(ChainView(epoch: 2, members: ["a", "b"]))), [.recordEpoch(2), .connectSuccessor("b")])
        XCTAssertEqual(a.on(.clientWrite(c(2), key: "k", value: [2], stored: nil, request: nil)),
                       [.persist(Update(seq: 2, key: "k", value: [2]))], "nothing forwarded before the new position")
        _ = a.on(.successorLinkUp("b"))
        XCTAssertEqual(a.on(.ack(from: "b", epoch: 2, seq: 0)),
                       [.forward(to: "b", epoch: 2, Update(seq: 1, key: "k", value: [1])), .forward(to: "b", epoch: 2, Update(seq: 2, key: "k", value: [2]))])
        // The successor side: on a new view it acks its predecessor even when that did not change.
        var b = Replica(id: "b", lastSeq: 0)
        _ = b.on(.viewChanged(ChainView(epoch: 1, members: ["a", "b", "c"])))
        _ = b.on(.predecessorLink("a", up: true))
        XCTAssertEqual(b.on(.viewChanged(ChainView(epoch: 2, members: ["a", "b"]))),
                       [.recordEpoch(2), .connectSuccessor(nil), .ack(to: "a", epoch: 2, seq: 0)])
        XCTAssertEqual(b.on(.refresh), [.ack(to: "a", epoch: 2, seq: 0)], "and repeats it on refresh")
    }

    func testOldEpochViewIsIgnored() {
        var a = Replica(id: "a", lastSeq: 0)
        _ = a.on(.viewChanged(ChainView(epoch: 5, members: ["a", "b"])))
        XCTAssertEqual(a.on(.viewChanged(ChainView(epoch: 4, members: ["b", "a"]))), [])
        XCTAssertEqual(a.role, .head)
    }
}

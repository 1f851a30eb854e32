import XCTest
@testable import ChainCore

/// Versions and conditional writes at the head: checked in sequence order, a failed condition
/// goes down the chain as an update that changes nothing, and retries get the first outcome.
final class ReplicaConditionalWriteTests: XCTestCase {
    let view = ChainView(epoch: 1, members: ["a", "b"])
    func c(_ n: UInt64) -> ClientRef { ClientRef(connection: 1, request: n) }
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    func vv(_ s: String, _ version: UInt64) -> VersionedValue { VersionedValue(bytes(s), version: version) }

    /// The head "a" of a→b, its successor at `lastSeq`, with a read lease.
    func head(lastSeq: UInt64 = 0) -> Replica {
        var r = Replica(id: "a", lastSeq: lastSeq)
        _ = r.on(.viewChanged(view))
        _ = r.on(.lease(until: 1000))
        _ = r.on(.successorLinkUp("b"))
        _ = r.on(.ack(from: "b", epoch: 1, seq: lastSeq))
        return r
    }

    func commit(_ r: inout Replica, through seq: UInt64) -> [ReplicaAction] {
        _ = r.on(.persisted(through: seq))
        return r.on(.ack(from: "b", epoch: 1, seq: seq))
    }

    func testAMatchingVersionAppliesAndCreatesTheNextVersion() {
        var a = head(lastSeq: 10)
        let actions = a.on(.clientWrite(c(1), key: "k", value: bytes("new"), stored: vv("old", 7), request: nil, ifVersion: 7))
        let update = Update(seq: 11, key: "k", value: bytes("new"))
        XCTAssertEqual(actions, [.forward(to: "b", epoch: 1, update), .persist(update)])
        XCTAssertEqual(commit(&a, through: 11), [.reply(c(1), .put(old: bytes("old"), version: 11))])
        XCTAssertEqual(a.read("k", stored: vv("new", 11), now: 1), .value(vv("new", 11)))
    }

    func testAFailedConditionChangesNothingButGoesDownTheChain() {
        var a = head(lastSeq: 10)
        let r = RequestID(client: 4, seq: 1)
        let actions = a.on(.clientWrite(c(1), key: "k", value: bytes("new"), stored: vv("old", 7), request: r, ifVersion: 6))
        let noop = Update(seq: 11, key: "k", value: nil, request: r, conditionFailed: 7)
        XCTAssertFalse(noop.changesKey)
        XCTAssertEqual(actions, [.forward(to: "b", epoch: 1, noop),
                                 .persist(noop, outcome: WriteOutcome(reply: .conditionFailed(current: 7), seq: 11, request: r))])
        XCTAssertEqual(a.read("k", stored: vv("old", 7), now: 1), .value(vv("old", 7)))
        XCTAssertEqual(commit(&a, through: 11), [.reply(c(1), .conditionFailed(current: 7))],
                       "answered once committed, in sequence order, never at once")
        XCTAssertEqual(a.read("k", stored: vv("old", 7), now: 1), .value(vv("old", 7)), "the key is unchanged")
    }

    func testVersionZeroMeansAbsent() {
        var a = head()
        _ = a.on(.clientWrite(c(1), key: "k", value: bytes("v"), stored: nil, request: nil, ifVersion: 0))
        // The second create is checked against the first, in flight before it in sequence order.
        let second = a.on(.clientWrite(c(2), key: "k", value: bytes("w"), stored: nil, request: nil, ifVersion: 0))
        XCTAssertEqual(second, [.forward(to: "b", epoch: 1, Update(seq: 2, key: "k", value: nil, conditionFailed: 1)),
                                .persist(Update(seq: 2, key: "k", value: nil, conditionFailed: 1))])
        // A conditional delete on the version the first create made applies.
        _ = a.on(.clientWrite(c(3), key: "k", value: nil, stored: nil, request: nil, ifVersion: 1))
        // Then the key is absent again: version 0.
        _ = a.on(.clientWrite(c(4), key: "k", value: bytes("x"), stored: nil, request: nil, ifVersion: 0))
        XCTAssertEqual(commit(&a, through: 4), [
            .reply(c(1), .put(old: nil, version: 1)),
            .reply(c(2), .conditionFailed(current: 1)),
            .reply(c(3), .delete(existed: true, version: 3)),
            .reply(c(4), .put(old: nil, version: 4)),
        ])
    }

    func testAFailedConditionInFlightKeepsTheLatestValueForTheNextWrite() {
        var a = head()
        _ = a.on(.clientWrite(c(1), key: "k", value: bytes("v"), stored: nil, request: nil))
        _ = a.on(.clientWrite(c(2), key: "k", value: bytes("w"), stored: nil, request: nil, ifVersion: 9))
        _ = a.on(.clientWrite(c(3), key: "k", value: bytes("x"), stored: nil, request: nil, ifVersion: 1))
        XCTAssertEqual(commit(&a, through: 2), [.reply(c(1), .put(old: nil, version: 1)), .reply(c(2), .conditionFailed(current: 1))])
        XCTAssertEqual(a.read("k", stored: nil, now: 1), .value(vv("v", 1)), "a committed no-op keeps the committed value")
        XCTAssertEqual(commit(&a, through: 3), [.reply(c(3), .put(old: bytes("v"), version: 3))])
    }

    /// A retry of a failed conditional write gets the first outcome, even after the key changed
    /// so that the condition would now hold.
    func testARetryOfAFailedConditionGetsTheFirstOutcome() {
        var a = head()
        let r = RequestID(client: 4, seq: 1)
        _ = a.on(.clientWrite(c(1), key: "k", value: bytes("v"), stored: nil, request: r, ifVersion: 5))
        XCTAssertEqual(a.on(.clientWrite(c(2), key: "k", value: bytes("v"), stored: nil, request: r, ifVersion: 5)), [],
                       "a retry joins the write in flight")
        XCTAssertEqual(commit(&a, through: 1), [.reply(c(1), .conditionFailed(current: 0)), .reply(c(2), .conditionFailed(current: 0))])
        XCTAssertEqual(a.on(.clientWrite(c(3), key: "k", value: bytes("v"), stored: nil, request: r, ifVersion: 5)),
                       [.reply(c(3), .conditionFailed(current: 0))], "after commit, from the history")
    }

    /// Downstream replicas keep what the head decided: the same outcome, and no change to the key.
    func testASuccessorStoresTheFailedConditionsOutcome() {
        var b = Replica(id: "b", lastSeq: 0)
        _ = b.on(.viewChanged(view))
        let r = RequestID(client: 4, seq: 1)
        let noop = Update(seq: 1, key: "k", value: nil, request: r, conditionFailed: 3)
        XCTAssertEqual(b.on(.forward(from: "a", epoch: 1, noop, stored: vv("v", 3))),
                       [.persist(noop, outcome: WriteOutcome(reply: .conditionFailed(current: 3), seq: 1, request: r))])
        let put = Update(seq: 2, key: "k", value: bytes("w"), request: RequestID(client: 4, seq: 2))
        XCTAssertEqual(b.on(.forward(from: "a", epoch: 1, put, stored: nil)),
                       [.persist(put, outcome: WriteOutcome(reply: .put(old: bytes("v"), version: 2), seq: 2, request: put.request!))],
                       "the next write's old value is the one before the no-op")
    }
}

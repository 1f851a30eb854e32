import ChainCore
import XCTest
@testable import ChainKV

/// The client's order of a watch's changes across chains (`WatchOrder`), without sockets: a
/// chain's changes after a move's barrier wait until the donor's stream has passed the barrier.
final class WatchOrderTests: XCTestCase {
    func change(_ key: String, _ value: UInt8?, _ version: UInt64) -> Change {
        Change(key: key, value: value.map { [$0] }, version: version)
    }

    func barrier(from: String, after: UInt64, slots: [ClosedRange<Int>] = [0...4095], at version: UInt64) -> Change {
        Change(barrier: MoveBarrier(slots: slots, from: from, after: after), version: version)
    }

    func start(_ chains: [String: UInt64], range: KeyRange = KeyRange(prefix: "")) -> WatchOrder {
        var order = WatchOrder(cursor: WatchCursor(), range: range)
        for (chain, at) in chains { XCTAssertTrue(order.start(chain, at: at)) }
        return order
    }

    func testWithoutBarriersChangesPassAtOnceAndTheCursorFollows() {
        var order = start(["a": 0])
        let out = order.received("a", [change("k", 1, 3), change("k", nil, 5)], through: 9)
        XCTAssertEqual(out.map(\.version), [3, 5])
        XCTAssertEqual(out.map { $0.cursor.positions["a"] }, [3, 5], "each change's cursor is just after it")
        XCTAssertEqual(order.cursor.positions["a"], 9, "then the whole answer")
        XCTAssertEqual(order.resumePoint("a"), 9)
        XCTAssertEqual(order.heldCount, 0)
    }

    func testTheRecipientWaitsForTheDonorToPassTheBarrier() {
        var order = start(["a": 10, "b": 0])
        // B: the barrier "from a after 20", then a change of k there.
        XCTAssertEqual(order.received("b", [barrier(from: "a", after: 20, at: 4), change("k", 2, 7)], through: 8), [])
        XCTAssertTrue(order.holds("b"))
        XCTAssertEqual(order.heldCount, 2)
        XCTAssertEqual(order.cursor.positions["b"], 0, "nothing of b handed on: its position stays")
        XCTAssertEqual(order.resumePoint("b"), 8, "but its poll goes on after what it has")
        // A's answer up to 15 does not pass 20 yet.
        XCTAssertEqual(order.received("a", [change("k", 1, 12)], through: 15).map(\.version), [12])
        XCTAssertTrue(order.holds("b"))
        // Up to 22 it does: a's last change of k, then b's first.
        let out = order.received("a", [change("k", 0, 18)], through: 22)
        XCTAssertEqual(out.map(\.version), [18, 7])
        XCTAssertEqual(out.map(\.value), [[0], [2]], "k's changes in order across the move")
        XCTAssertEqual(out[1].cursor.positions, ["a": 22, "b": 7], "b's change is handed on with a past the barrier")
        XCTAssertEqual(order.cursor.positions["b"], 8)
        XCTAssertEqual(order.heldCount, 0)
        XCTAssertFalse(order.holds("b"))
    }

    func testADonorAnswerWithoutChangesReleasesToo() {
        var order = start(["a": 10, "b": 0])
        _ = order.received("b", [barrier(from: "a", after: 20, at: 4), change("k", 2, 7)], through: 7)
        XCTAssertEqual(order.received("a", [], through: 20).map(\.version), [7])
    }

    func testABarrierOfAnotherSlotDoesNotHoldAOneKeyWatch() {
        let key = "user/7", slot = SlotMap.slot(of: key)
        let other = slot == 0 ? 1...1 : 0...0
        var order = start(["a": 0, "b": 0], range: KeyRange(lower: Array(key.utf8), upper: Array(key.utf8) + [0]))
        XCTAssertEqual(order.received("b", [barrier(from: "a", after: 20, slots: [other], at: 4), change(key, 2, 7)], through: 7)
                        .map(\.version), [7])
        XCTAssertEqual(order.received("b", [barrier(from: "a", after: 20, slots: [slot...slot], at: 8), change(key, 3, 9)], through: 9), [],
                       "its own slot's barrier holds it")
        // A prefix watch is held by any barrier.
        var prefix = start(["a": 0, "b": 0], range: KeyRange(prefix: "user/"))
        XCTAssertEqual(prefix.received("b", [barrier(from: "a", after: 20, slots: [other], at: 4), change(key, 2, 7)], through: 7), [])
    }

    func testADonorGoneFromTheMapReleases() {
        var order = start(["a": 10, "b": 0])
        _ = order.received("b", [barrier(from: "a", after: 20, at: 4), change("k", 2, 7)], through: 7)
        XCTAssertEqual(order.present(["a", "b"]), [])
        XCTAssertEqual(order.present(["b"]).map(\.version), [7], "a owns no slot any more: it cannot be read")
    }

    func testReleasesCascadeInOrder() {
        var order = start(["a": 0, "b": 0, "c": 0])
        // c waits for b at 5; b waits for a at 3.
        XCTAssertEqual(order.received("c", [barrier(from: "b", after: 5, at: 1), change("x", 3, 2)], through: 2), [])
        XCTAssertEqual(order.received("b", [barrier(from: "a", after: 3, at: 4), change("x", 2, 6)], through: 6), [])
        let out = order.received("a", [change("x", 1, 3)], through: 3)
        XCTAssertEqual(out.map(\.value), [[1], [2], [3]], "a, then b, then c")
        XCTAssertEqual(order.heldCount, 0)
    }

    func testAChainNotKnownYetHoldsUntilItIsRead() {
        var order = start(["b": 0])
        XCTAssertEqual(order.received("b", [barrier(from: "a", after: 0, at: 1), change("k", 1, 2)], through: 2), [],
                       "no position for a: its changes may still come")
        XCTAssertTrue(order.start("a", at: 0))
        XCTAssertEqual(order.received("a", [], through: 1).map(\.version), [2])
        XCTAssertFalse(order.start("a", at: 5), "a position is set once")
    }

    func testAWatchStartingAsAMoveEndsStartsTheRecipientBeforeItsBarrier() {
        // b's "now" (9) is past a barrier (at 4) waiting for a at 20; a's "now" is 15: b starts at 3.
        let starts = WatchOrder.startPoints(["a": (15, []), "b": (9, [barrier(from: "a", after: 12, at: 2), barrier(from: "a", after: 20, at: 4)]),
                                             "c": (30, [barrier(from: "gone", after: 99, at: 7)])])
        XCTAssertEqual(starts, ["a": 15, "b": 3, "c": 30], "an older barrier a has passed, and a donor that is gone, move nothing")
        var order = start(starts)
        XCTAssertEqual(order.received("b", [barrier(from: "a", after: 20, at: 4), change("k", 2, 6)], through: 9), [])
        XCTAssertEqual(order.received("a", [change("k", 1, 18)], through: 20).map(\.value), [[1], [2]])
    }

    /// The torture runner's growth seed: a watcher compacted on the recipient resumed from its
    /// oldest point, past the move's barrier, with the donor still behind the barrier; the
    /// recipient's newer change of k was handed on before the donor's older one.
    func testAResumedCursorPastABarrierWaitsForTheDonor() {
        // The cursor: a at 10, b moved on to 50 (its barrier "from a after 20" was at 4).
        var order = WatchOrder(cursor: WatchCursor("a:10,b:50")!, range: KeyRange(prefix: ""))
        order.resumed("b", barriers: [barrier(from: "a", after: 5, at: 2), barrier(from: "a", after: 20, at: 4),
                                      barrier(from: "a", after: 99, at: 60)])
        XCTAssertEqual(order.heldCount, 1, "only the skipped barrier a has not passed holds b; the one at 60 comes in b's stream")
        XCTAssertEqual(order.received("b", [change("k", 3, 55)], through: 58), [], "b's change waits for a's older ones")
        XCTAssertEqual(order.cursor.positions["b"], 50)
        XCTAssertEqual(order.received("a", [change("k", 1, 15)], through: 18).map(\.version), [15])
        let out = order.received("a", [change("k", 2, 19)], through: 21)
        XCTAssertEqual(out.map(\.value), [[2], [3]], "k's changes in order across the skipped move")
        XCTAssertEqual(order.cursor.positions, ["a": 21, "b": 58])
        XCTAssertEqual(order.heldCount, 0)
    }

    func testAResumedCursorWhoseDonorPassedTheBarrierHoldsNothing() {
        var order = WatchOrder(cursor: WatchCursor("a:30,b:50")!, range: KeyRange(prefix: ""))
        order.resumed("b", barriers: [barrier(from: "a", after: 20, at: 4)])
        XCTAssertEqual(order.heldCount, 0)
        XCTAssertEqual(order.received("b", [change("k", 3, 55)], through: 58).map(\.version), [55])
        // A one-key watch whose key is not in the moved slots is not held either.
        let key = "user/7", slot = SlotMap.slot(of: key)
        let other = slot == 0 ? 1...1 : 0...0
        var one = WatchOrder(cursor: WatchCursor("a:10,b:50")!, range: KeyRange(lower: Array(key.utf8), upper: Array(key.utf8) + [0]))
        one.resumed("b", barriers: [barrier(from: "a", after: 20, slots: [other], at: 4)])
        XCTAssertEqual(one.heldCount, 0)
    }

    /// A chain that appeared during the watch is read from the oldest change it keeps, but only
    /// until its first answer: after that a compaction is a gap to report (torture seed 7 with
    /// `--grow`: a late chain's head restarted with no history, and a committed change of it was
    /// skipped silently).
    func testALateChainReadsFromItsOldestOnlyBeforeItsFirstAnswer() {
        var order = start(["a": 10])
        XCTAssertTrue(order.start("c", at: 0, late: true))
        XCTAssertFalse(order.readsFromOldest("a"), "a chain known from the start never skips")
        XCTAssertTrue(order.readsFromOldest("c"))
        XCTAssertEqual(order.received("c", [change("k", 1, 4)], through: 6).map(\.version), [4])
        XCTAssertFalse(order.readsFromOldest("c"), "read once: a compaction now is a gap")
        var other = start(["a": 10])
        XCTAssertTrue(other.start("d", at: 0, late: true))
        _ = other.received("d", [], through: 0)
        XCTAssertFalse(other.readsFromOldest("d"), "an answer without changes counts too")
    }
}

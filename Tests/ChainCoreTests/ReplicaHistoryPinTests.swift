import XCTest
@testable import ChainCore

/// The history pinned while a snapshot is sent (`Replica.pinHistory`): the joiner catches up from
/// the snapshot's point however much was written meanwhile, up to the pinned bounds; without the
/// pin, more than the history's ordinary bound written meanwhile means a new transfer.
final class ReplicaHistoryPinTests: XCTestCase {
    let view = ChainView(epoch: 1, members: ["b", "c"])
    /// The joiner spliced in after the tail that sent it the snapshot.
    let joined = ChainView(epoch: 2, members: ["b", "c", "d"], syncing: ["d"])

    /// The tail `c` of `view`: it commits what it fsyncs.
    func tail() -> Replica {
        var r = Replica(id: "c", lastSeq: 0)
        _ = r.on(.viewChanged(view))
        return r
    }

    /// Commits `count` updates of `value` at the tail, from seq `first` (one buffer shared by all).
    func write(_ r: inout Replica, from first: UInt64, count: Int, _ value: [UInt8]) {
        let last = first + UInt64(count) - 1
        for seq in first...last {
            _ = r.on(.forward(from: "b", epoch: 1, Update(seq: seq, key: "k\(seq % 100)", value: value), stored: nil))
        }
        _ = r.on(.persisted(through: last))
        XCTAssertEqual(r.stable, last)
    }

    /// The joiner `d` is spliced in and acknowledges `position` (its snapshot's point).
    func splice(_ r: inout Replica, position: UInt64) -> [ReplicaAction] {
        _ = r.on(.viewChanged(joined))
        _ = r.on(.successorLinkUp("d"))
        return r.on(.ack(from: "d", epoch: 2, seq: position))
    }

    let quarterMiB = [UInt8](repeating: 1, count: 256 << 10)
    /// Between the history's ordinary and pinned byte bounds, in 256 KiB updates.
    var threeBounds: Int { (CoreLimits.recentBytesMax + CoreLimits.recentPinnedBytesMax) / 2 / (256 << 10) }

    func forwarded(_ actions: [ReplicaAction]) -> [UInt64] {
        actions.compactMap { action -> UInt64? in
            if case .forward(to: "d", epoch: 2, let u) = action { return u.seq }
            return nil
        }
    }

    func testAPinnedHistoryCatchesTheJoinerUp() {
        var c = tail()
        write(&c, from: 1, count: 10, quarterMiB)
        _ = c.pinHistory()
        XCTAssertEqual(c.historyPin?.from, 11, "the snapshot holds at least what is committed now")
        write(&c, from: 11, count: threeBounds, quarterMiB)
        XCTAssertLessThanOrEqual(c.recent.first!.seq, 11, "nothing after the pin left")
        XCTAssertGreaterThan(c.recentBytes, CoreLimits.recentBytesMax)
        let last = UInt64(10 + threeBounds)
        XCTAssertEqual(forwarded(splice(&c, position: 10)), Array(11...last), "everything after the snapshot, in order")
        // The link drops before the joiner acknowledges it all: the pin still holds, it goes again.
        _ = c.on(.ack(from: "d", epoch: 2, seq: 40))
        XCTAssertNotNil(c.historyPin, "not released before the joiner has everything sent")
        _ = c.on(.successorLinkUp("d"))
        XCTAssertEqual(forwarded(c.on(.ack(from: "d", epoch: 2, seq: 40))), Array(41...last))
        _ = c.on(.ack(from: "d", epoch: 2, seq: last))
        XCTAssertNil(c.historyPin, "the joiner acknowledged the catch-up: released")
        XCTAssertLessThanOrEqual(c.recentBytes, CoreLimits.recentBytesMax, "and the history is back within its bound")
    }

    func testWithoutAPinTheJoinerNeedsANewTransfer() {
        var c = tail()
        write(&c, from: 1, count: 10, quarterMiB)
        write(&c, from: 11, count: threeBounds, quarterMiB)
        XCTAssertEqual(splice(&c, position: 10), [.successorTooFarBehind("d", position: 10)])
    }

    func testUnpinningTrimsAndAStalePinIsIgnored() {
        var c = tail()
        let older = c.pinHistory()
        let pin = c.pinHistory()
        XCTAssertEqual(c.historyPin?.from, 1, "two pins at the same point")
        write(&c, from: 1, count: threeBounds, quarterMiB)
        c.unpinHistory(older)
        XCTAssertEqual(c.historyPin?.token, pin, "an older transfer's release leaves the newer pin")
        c.unpinHistory(pin)
        XCTAssertNil(c.historyPin)
        XCTAssertLessThanOrEqual(c.recentBytes, CoreLimits.recentBytesMax)
        XCTAssertEqual(c.recent.last?.seq, UInt64(threeBounds), "the newest updates stay")
    }

    /// The rings give back what a pinned burst of small updates made them grow to.
    func testReleasingAPinShrinksTheHistorysStorage() {
        var c = tail()
        let pin = c.pinHistory()
        write(&c, from: 1, count: CoreLimits.recentMax * 2, [1])
        XCTAssertEqual(c.recent.count, CoreLimits.recentMax * 2, "pinned: past the ordinary count")
        let grown = c.recent.capacity
        c.unpinHistory(pin)
        XCTAssertEqual(c.recent.count, CoreLimits.recentMax)
        XCTAssertLessThan(c.recent.capacity, grown / 2 + 2048, "storage given back")
        XCTAssertLessThan(c.recentEntries.capacity, grown / 2 + 2048)
    }

    /// Past the pinned bound the oldest pinned updates go too: the joiner then needs a new
    /// transfer, and the pin that could not keep its point is released.
    func testThePinnedBoundHolds() {
        var c = tail()
        _ = c.pinHistory()
        let count = CoreLimits.recentPinnedBytesMax / (256 << 10) + 8
        write(&c, from: 1, count: count, quarterMiB)
        XCTAssertLessThanOrEqual(c.recentBytes, CoreLimits.recentPinnedBytesMax)
        XCTAssertGreaterThan(c.recent.first!.seq, c.historyPin!.from)
        XCTAssertEqual(splice(&c, position: 0), [.successorTooFarBehind("d", position: 0)])
        XCTAssertNil(c.historyPin)
        XCTAssertLessThanOrEqual(c.recentBytes, CoreLimits.recentBytesMax)
    }
}

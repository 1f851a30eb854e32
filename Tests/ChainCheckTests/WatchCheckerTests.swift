@testable import ChainCheck
import XCTest

final class WatchCheckerTests: XCTestCase {
    /// k: put a, put b, delete, put c (all acknowledged, one after another); j: put x.
    func history() -> HistoryBuilder {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 10)
        h.put(2, "b", old: "a", 20, 30)
        h.delete(1, existed: true, 40, 50)
        h.put(2, "c", old: nil, 60, 70)
        h.put(3, "x", old: nil, 5, 15, key: "j")
        return h
    }

    func event(_ key: String, _ value: String?, _ version: UInt64) -> RecordedWatch.Event {
        RecordedWatch.Event(key: key, value: value.map(bytes), version: version, time: version * 10)
    }

    func stream(_ events: [RecordedWatch.Event], prefix: String = "", sharded: Bool = false) -> RecordedWatch {
        RecordedWatch(name: "w", prefix: prefix, exact: false, sharded: sharded, events: events)
    }

    var exact: [RecordedWatch.Event] {
        [event("k", "a", 1), event("j", "x", 2), event("k", "b", 3), event("k", nil, 4), event("k", "c", 5)]
    }

    func kinds(_ s: RecordedWatch, _ h: HistoryBuilder, finals: [String: [UInt8]?]? = nil) -> [WatchChecker.Defect.Kind] {
        WatchChecker.check(s, history: h.operations, finals: finals).map(\.kind)
    }

    func testTheExactStreamPasses() {
        XCTAssertEqual(kinds(stream(exact), history(), finals: ["k": bytes("c"), "j": bytes("x")]), [])
        // A watcher of one key sees only its changes; the others are not asked of it.
        let onlyJ = RecordedWatch(name: "j", prefix: "j", exact: true, sharded: false, events: [event("j", "x", 2)])
        XCTAssertEqual(kinds(onlyJ, history(), finals: ["k": bytes("c"), "j": bytes("x")]), [])
    }

    func testAVersionDeliveredTwiceFails() {
        var events = exact
        events.insert(event("j", "x", 2), at: 2)
        XCTAssertTrue(kinds(stream(events), history()).contains(.duplicate))
    }

    func testAChainsVersionsOutOfOrderFail() {
        var events = exact
        events.swapAt(0, 1)  // j's change (version 2) before k's (version 1): one chain
        XCTAssertEqual(kinds(stream(events), history()), [.outOfOrder])
        // Sharded: versions 0x101 (chain 1) and 0x200 (chain 0) are of different chains, in any order.
        let sharded = [event("k", "a", 0x100), event("j", "x", 0x201), event("k", "b", 0x200), event("k", nil, 0x300), event("k", "c", 0x400)]
        XCTAssertEqual(kinds(stream(sharded, sharded: true), history()), [])
        var swapped = sharded
        swapped.swapAt(2, 3)
        XCTAssertTrue(kinds(stream(swapped, sharded: true), history()).contains(.outOfOrder))
    }

    func testAMadeUpValueFails() {
        var events = exact
        events.append(event("k", "z", 6))  // nobody wrote z
        XCTAssertEqual(kinds(stream(events), history()), [.madeUp])
        var moved = exact
        moved[1] = event("k", "x", 2)  // x was written to j, not k
        XCTAssertTrue(kinds(stream(moved), history()).contains(.madeUp))
        var deletions = exact
        deletions.append(event("k", nil, 6))  // one delete, two deletions
        XCTAssertTrue(kinds(stream(deletions), history()).contains(.madeUp))
    }

    func testAMissingAcknowledgedWriteFails() {
        var events = exact
        events.remove(at: 2)  // b
        XCTAssertTrue(kinds(stream(events), history()).contains(.missing))
        var noDelete = exact
        noDelete.remove(at: 3)
        XCTAssertTrue(kinds(stream(noDelete), history()).contains(.missing))
    }

    func testAWriteWithAnUnknownOutcomeMayBeAbsentOrPresentOnce() {
        let h = history()
        h.putUnknown(4, "u", 80)
        h.deleteUnknown(4, 90)
        XCTAssertEqual(kinds(stream(exact), h, finals: ["k": bytes("c"), "j": bytes("x")]), [])
        let applied = exact + [event("k", "u", 6), event("k", nil, 7)]
        XCTAssertEqual(kinds(stream(applied), h, finals: ["k": nil, "j": bytes("x")]), [])
        let twice = applied + [event("k", "u", 8)]
        XCTAssertTrue(kinds(stream(twice), h).contains(.duplicate))
    }

    func testChangesInAnOrderTheWritesContradictFail() {
        // b was invoked after a was acknowledged, so a's change comes first (and b replaced a).
        var events = exact
        events[0] = event("k", "b", 1)
        events[2] = event("k", "a", 3)
        XCTAssertTrue(kinds(stream(events), history()).contains(.misordered))
        // The delete completed before c was invoked: its deletion must come before c's change.
        var late = exact
        late[3] = event("k", "c", 4)
        late[4] = event("k", nil, 5)
        XCTAssertTrue(kinds(stream(late), history()).contains(.misordered))
    }

    func testAGapExcusesTheWritesInvokedBeforeTheWatcherResumed() {
        var s = stream([event("j", "x", 2), event("k", "c", 5)])
        XCTAssertTrue(kinds(s, history()).contains(.missing))
        s.resumes = [RecordedWatch.Resume(time: 55, index: 1)]
        XCTAssertEqual(kinds(s, history()), [], "a, b and the delete were invoked before 55; c after, and it is there")
        s.resumes = [RecordedWatch.Resume(time: 35, index: 1)]
        XCTAssertTrue(kinds(s, history()).contains(.missing), "the delete was invoked after the watcher resumed")
    }

    func testTheLastChangeMustBeTheFinalRead() {
        XCTAssertEqual(kinds(stream(Array(exact.dropLast())), history(), finals: ["k": nil, "j": bytes("x")]), [.missing])
        XCTAssertTrue(kinds(stream(exact), history(), finals: ["k": bytes("b"), "j": bytes("x")]).contains(.final))
    }
}

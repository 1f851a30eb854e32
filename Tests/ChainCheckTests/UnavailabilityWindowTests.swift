@testable import ChainCheck
import XCTest

final class UnavailabilityWindowTests: XCTestCase {
    private let ms: UInt64 = 1_000_000

    func testTheLongestGapBetweenCompletionsWins() {
        let h = HistoryBuilder()
        h.put(0, "a", old: nil, 0, 100 * ms)
        h.get(1, "a", 150 * ms, 200 * ms)
        h.put(0, "b", old: "a", 210 * ms, nil)  // unknown: no completion, so no end of a gap
        h.get(1, "b", 250 * ms, 3_400 * ms)
        h.get(0, "b", 3_410 * ms, 3_500 * ms)
        let window = UnavailabilityWindow.longest(in: h.operations)
        XCTAssertEqual(window, UnavailabilityWindow(from: 200 * ms, to: 3_400 * ms))
        XCTAssertEqual(window?.milliseconds, 3_200)
        XCTAssertEqual(window?.description, "0.20-3.40 s")
    }

    func testCompletionsOutOfOrderAreSortedAndTheStartIsNoGap() {
        let h = HistoryBuilder()
        h.get(0, nil, 5_000 * ms, 9_000 * ms)  // the first completion comes 9 s in: not a gap
        h.get(1, nil, 9_100 * ms, 9_200 * ms)
        h.get(2, nil, 8_000 * ms, 9_050 * ms)
        XCTAssertEqual(UnavailabilityWindow.longest(in: h.operations), UnavailabilityWindow(from: 9_050 * ms, to: 9_200 * ms))
    }

    func testOnlyOperationsWithAKnownOutcomeCount() {
        let h = HistoryBuilder()
        h.put(0, "a", old: nil, 0, 100 * ms)
        h.get(1, "a", 0, 2_100 * ms)
        var ops = h.operations
        // A write the client never saw answered, even with a completion time, ends no gap.
        ops.append(Operation(id: ops.count, client: 2, key: "k", kind: .putUnknown(value: [1]), invoke: 0, complete: 1_000 * ms))
        XCTAssertEqual(UnavailabilityWindow.longest(in: ops), UnavailabilityWindow(from: 100 * ms, to: 2_100 * ms))
    }

    func testNoWindowWithoutTwoCompletions() {
        let h = HistoryBuilder()
        XCTAssertNil(UnavailabilityWindow.longest(in: h.operations))
        h.put(0, "a", old: nil, 0, 10 * ms)
        h.put(1, "b", old: nil, 0, nil)
        XCTAssertNil(UnavailabilityWindow.longest(in: h.operations))
    }

    func testCoversTheWindowAndTheLeadBeforeIt() {
        let window = UnavailabilityWindow(from: 10_000 * ms, to: 16_000 * ms)
        XCTAssertTrue(window.covers(seconds: 12, lead: 5))
        XCTAssertTrue(window.covers(seconds: 16, lead: 5))
        XCTAssertTrue(window.covers(seconds: 5.5, lead: 5), "a fault shortly before the last success")
        XCTAssertFalse(window.covers(seconds: 4.9, lead: 5))
        XCTAssertFalse(window.covers(seconds: 16.01, lead: 5), "after the service came back")
        XCTAssertEqual(UnavailabilityWindow(from: 1_006 * ms, to: 61_000 * ms).description, "1.01-61.00 s")
    }
}

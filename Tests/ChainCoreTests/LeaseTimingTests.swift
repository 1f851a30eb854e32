import XCTest
@testable import ChainCore

final class LeaseTimingTests: XCTestCase {
    /// The fence wait outlasts the lease by the drift margin, and never rounds down to fewer ticks.
    func testFenceWaitOutlastsTheLeaseWithTheDriftMargin() {
        let t = LeaseTiming(leaseMs: 500)
        XCTAssertEqual(t.renewIntervalMs, 125)
        XCTAssertEqual(t.fenceWaitMs, 625)
        XCTAssertEqual(t.leaseEnd(sentAtMs: 1000), 1500)
        XCTAssertEqual(t.fenceTicks(tickMs: 100), 7, "625 ms is 6.25 ticks: rounded up")
        XCTAssertEqual(LeaseTiming(leaseMs: 400).fenceTicks(tickMs: 100), 5)
        for lease in [100, 333, 500, 1000, 59_999] as [UInt64] {
            let timing = LeaseTiming(leaseMs: lease)
            XCTAssertGreaterThanOrEqual(timing.fenceWaitMs * 100, lease * (100 + LeaseTiming.driftPercent))
            XCTAssertGreaterThanOrEqual(timing.fenceTicks(tickMs: 100) * 100, timing.fenceWaitMs)
            XCTAssertLessThan(timing.renewIntervalMs * 2, lease, "a lost renewal must not end a healthy lease")
        }
    }
}

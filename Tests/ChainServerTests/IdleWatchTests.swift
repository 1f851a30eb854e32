import NIOCore
import XCTest
@testable import ChainServer

/// The idle timeout of inbound connections (`IdleWatch`, run by `ConnectionGuard` every period).
/// SlowClientTests checks it end to end on real connections.
final class IdleWatchTests: XCTestCase {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let timeout = TimeAmount.seconds(8)

    /// The checks a guard makes from `start`, one per period, through `periods`: the first one
    /// that finds the connection idle (nil: none), with `activity` run before the check of each
    /// period it names.
    func firstIdle(_ watch: inout IdleWatch, from: Int = 1, periods: Int, activity: [Int: (inout IdleWatch) -> Void] = [:]) -> Int? {
        for p in from...periods {
            activity[p]?(&watch)
            if watch.check(now: start + watch.period * Int64(p)) { return p }
        }
        return nil
    }

    func testASilentConnectionIsIdleAfterTheTimeoutNotBefore() {
        var watch = IdleWatch(timeout: timeout, now: start)
        XCTAssertEqual(watch.period, .seconds(1))
        XCTAssertEqual(firstIdle(&watch, periods: 20), 8, "idle at 8 s, the timeout, not a check earlier")
    }

    func testAReadPutsTheTimeoutOffFromTheCheckThatSawIt() {
        var watch = IdleWatch(timeout: timeout, now: start)
        XCTAssertEqual(firstIdle(&watch, periods: 30, activity: [5: { $0.read() }]), 13, "activity seen at the check of 5 s")
    }

    func testOnlyACompletedWriteCounts() {
        var watch = IdleWatch(timeout: timeout, now: start)
        XCTAssertTrue(watch.follows(), "the first write of a period is followed")
        XCTAssertFalse(watch.follows(), "no second one while it is under way")
        // It never completes (a peer that reads nothing): the connection goes idle all the same.
        XCTAssertEqual(firstIdle(&watch, periods: 20), 8)
    }

    func testOneWriteIsFollowedPerPeriod() {
        var watch = IdleWatch(timeout: timeout, now: start)
        XCTAssertTrue(watch.follows())
        watch.writeCompleted()
        XCTAssertFalse(watch.follows(), "writes after it in the same period cost no promise")
        XCTAssertFalse(watch.check(now: start + .seconds(1)))
        XCTAssertTrue(watch.follows(), "armed again by the check")
        watch.writeCompleted()
        XCTAssertEqual(firstIdle(&watch, from: 2, periods: 30), 8 + 2, "the write completed before the check of 2 s")
    }

    func testATinyTimeoutChecksNoMoreOftenThanThePeriodMinimum() {
        XCTAssertEqual(IdleWatch(timeout: .milliseconds(16), now: start).period, IdleWatch.periodMin)
    }
}

@testable import ChainServer
import XCTest

final class MemberListOrderTests: XCTestCase {
    /// The CI case: a new leader's own read (version 12) is applied, then the watch delivers a
    /// list it read earlier (version 9): dropped. The next change (15) is applied.
    func testAListingOlderThanOneAppliedIsDropped() {
        var order = MemberListOrder()
        XCTAssertTrue(order.accept(5))
        XCTAssertTrue(order.accept(12), "the leader's fresh read")
        XCTAssertFalse(order.accept(9), "the watch's list read before it")
        XCTAssertEqual(order.applied, 12)
        XCTAssertTrue(order.accept(12), "the same listing again (a re-armed watch)")
        XCTAssertTrue(order.accept(15))
        XCTAssertFalse(order.accept(14))
    }

    /// A members znode deleted by hand lists as -1: applied, and a re-created znode's listings
    /// (larger zxids) follow.
    func testAGoneMembersZnodeIsAppliedAndItsRecreationFollows() {
        var order = MemberListOrder()
        XCTAssertTrue(order.accept(30))
        XCTAssertTrue(order.accept(-1))
        XCTAssertEqual(order.applied, -1)
        XCTAssertTrue(order.accept(31))
        XCTAssertFalse(order.accept(29))
    }
}

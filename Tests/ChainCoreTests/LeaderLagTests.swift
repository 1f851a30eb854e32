import XCTest
@testable import ChainCore

final class LeaderLagTests: XCTestCase {
    let config = Leader.Config(expectedMembers: 3, formationTicks: 10, transferTicks: 50, fenceTicks: 0)
    let live: [NodeID: String] = ["a": "a.1", "b": "b.1", "c": "c.1"]

    func testLagIsTheHeadsReceivedMinusEachMembersDurable() {
        var l = Leader(config: config)
        XCTAssertEqual(l.memberLag, [:], "no chain yet")
        _ = l.on(.elected(chain: ChainView(epoch: 2, members: ["a", "b", "c"], incarnations: live), version: 0, live: live, now: 0))
        XCTAssertEqual(l.memberLag, [:], "no reply yet")
        _ = l.on(.progress("b", .init(epoch: 2, received: 90, durable: 80)))
        XCTAssertEqual(l.memberLag, [:], "no reply from the head yet")
        _ = l.on(.progress("a", .init(epoch: 2, received: 100, durable: 97)))
        XCTAssertEqual(l.memberLag, ["a": 3, "b": 20], "c has not answered")
        _ = l.on(.progress("c", .init(epoch: 2, received: 105, durable: 104)))
        XCTAssertEqual(l.memberLag, ["a": 3, "b": 20, "c": 0], "a reply newer than the head's is not behind")
    }
}

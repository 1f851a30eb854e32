import XCTest
@testable import ChainCore

final class LeaderTests: XCTestCase {
    let config = Leader.Config(expectedMembers: 3, formationTicks: 10)

    func testFormsChainOnceExpectedMembersAreLive() {
        var l = Leader(config: config)
        XCTAssertEqual(l.on(.elected(chain: nil, version: nil, live: ["n2"], now: 0)), [])
        XCTAssertEqual(l.on(.membersChanged(["n2", "n10"])), [])
        XCTAssertEqual(l.on(.membersChanged(["n10", "n2", "n1"])),
                       [.writeChain(ChainView(epoch: 1, members: ["n1", "n2", "n10"]), expectedVersion: nil)])
        XCTAssertEqual(l.on(.membersChanged(["n10", "n2"])), [], "one write outstanding at a time")
        XCTAssertEqual(l.on(.chainWritten(ChainView(epoch: 1, members: ["n1", "n2", "n10"]), version: 0)),
                       [.writeChain(ChainView(epoch: 2, members: ["n2", "n10"]), expectedVersion: 0)])
    }

    func testFormsChainOfWhoeverIsThereAfterTimeout() {
        var l = Leader(config: config)
        XCTAssertEqual(l.on(.elected(chain: nil, version: nil, live: ["b"], now: 100)), [])
        XCTAssertEqual(l.on(.tick(109)), [])
        XCTAssertEqual(l.on(.tick(110)), [.writeChain(ChainView(epoch: 1, members: ["b"]), expectedVersion: nil)])
    }

    func testRemovesFailedMembersKeepingOrder() {
        var l = Leader(config: config)
        let chain = ChainView(epoch: 4, members: ["a", "b", "c", "d"])
        XCTAssertEqual(l.on(.elected(chain: chain, version: 7, live: ["a", "b", "c", "d"], now: 0)), [])
        XCTAssertEqual(l.on(.membersChanged(["d", "a", "c"])),
                       [.writeChain(ChainView(epoch: 5, members: ["a", "c", "d"]), expectedVersion: 7)])
    }

    func testNeverWritesAnEmptyChain() {
        var l = Leader(config: config)
        let chain = ChainView(epoch: 4, members: ["a", "b"])
        XCTAssertEqual(l.on(.elected(chain: chain, version: 1, live: ["z"], now: 0)), [],
                       "only a member of the last configuration may restart the chain")
    }

    func testLostWriteAdoptsCurrentChainAndDecidesAgain() {
        var l = Leader(config: config)
        let chain = ChainView(epoch: 1, members: ["a", "b", "c"])
        _ = l.on(.elected(chain: chain, version: 0, live: ["a", "b", "c"], now: 0))
        _ = l.on(.membersChanged(["a", "c"]))
        let current = ChainView(epoch: 2, members: ["a", "b"])
        XCTAssertEqual(l.on(.chainWriteFailed(current: current, version: 1)),
                       [.writeChain(ChainView(epoch: 3, members: ["a"]), expectedVersion: 1)])
    }

    func testDeposedLeaderDecidesNothing() {
        var l = Leader(config: config)
        _ = l.on(.elected(chain: nil, version: nil, live: [], now: 0))
        _ = l.on(.deposed)
        XCTAssertEqual(l.on(.membersChanged(["a", "b", "c"])), [])
    }

    func testNaturalOrder() {
        XCTAssertEqual(["n10", "n2", "n1", "m3"].sorted(by: Leader.chainOrder), ["m3", "n1", "n2", "n10"])
    }
}

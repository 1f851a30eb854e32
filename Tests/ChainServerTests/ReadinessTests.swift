import ChainCoordination
import XCTest
@testable import ChainServer

/// `/readyz`'s rules, one at a time, in the order they are checked.
final class ReadinessTests: XCTestCase {
    let run = "1700000000000/42"

    func config(epoch: UInt64, members: [String], syncing: [String] = [], placement: [String]? = nil,
                runs: [String: String]? = nil) -> ChainConfig {
        ChainConfig(epoch: epoch, members: members, addresses: Dictionary(uniqueKeysWithValues: members.map { ($0, "127.0.0.1:1") }),
                    leader: "a", incarnations: runs ?? Dictionary(uniqueKeysWithValues: members.map { ($0, run) }),
                    syncing: syncing, placement: placement)
    }

    func reason(sharded: Bool = false, stopping: Bool = false, slotMapRead: Bool = true, _ configs: [String: ChainConfig],
                acting: [String: UInt64]) -> String? {
        Readiness.reason(id: "b", incarnation: run, sharded: sharded, stopping: stopping, slotMapRead: slotMapRead,
                         configs: configs, acting: acting)
    }

    func testTheSingleChain() {
        XCTAssertEqual(reason([:], acting: [:]), "no chain configuration read yet")
        XCTAssertEqual(reason(["c0": config(epoch: 3, members: ["a", "c"])], acting: ["c0": 0]), "chain c0: not a member (epoch 3)",
                       "every server belongs to the single chain: one left out is waiting to be re-added")
        XCTAssertEqual(reason(["c0": config(epoch: 4, members: ["a", "b"], runs: ["a": run, "b": "1600000000000/7"])], acting: ["c0": 0]),
                       "chain c0: its configuration (epoch 4) names another run of this server")
        XCTAssertEqual(reason(["c0": config(epoch: 4, members: ["a", "b"])], acting: ["c0": 3]),
                       "chain c0: acting in epoch 3, its configuration's is 4")
        XCTAssertEqual(reason(["c0": config(epoch: 4, members: ["a", "b"], syncing: ["b"])], acting: ["c0": 4]),
                       "chain c0: syncing (joined, still being caught up)")
        XCTAssertNil(reason(["c0": config(epoch: 4, members: ["a", "b"])], acting: ["c0": 4]))
        XCTAssertEqual(reason(stopping: true, ["c0": config(epoch: 4, members: ["a", "b"])], acting: ["c0": 4]), "stopping")
    }

    func testEveryChainThatPlacesOrNamesTheServer() {
        let c0 = config(epoch: 2, members: ["a", "b", "c"], placement: ["a", "b", "c"])
        let c1 = config(epoch: 5, members: ["c", "a"], placement: ["b", "c", "a"])  // b waits to rejoin c1
        let c2 = config(epoch: 1, members: ["c", "a", "d"], placement: ["c", "a", "d"])  // not b's
        XCTAssertEqual(reason(sharded: true, slotMapRead: false, ["c0": c0], acting: ["c0": 2]), "no slot map read yet")
        XCTAssertEqual(reason(sharded: true, ["c2": c2], acting: [:]), "no chain configuration names this server",
                       "a server beyond every placement holds no data")
        XCTAssertEqual(reason(sharded: true, ["c0": c0, "c1": c1, "c2": c2], acting: ["c0": 2]), "chain c1: not a member (epoch 5)")
        var rejoined = c1
        rejoined.epoch = 6
        rejoined.members = ["c", "a", "b"]
        rejoined.incarnations["b"] = run
        rejoined.syncing = ["b"]
        XCTAssertEqual(reason(sharded: true, ["c0": c0, "c1": rejoined, "c2": c2], acting: ["c0": 2]),
                       "chain c1: acting in epoch 0, its configuration's is 6", "a chain not hosted yet acts in no epoch")
        XCTAssertEqual(reason(sharded: true, ["c0": c0, "c1": rejoined, "c2": c2], acting: ["c0": 2, "c1": 6]),
                       "chain c1: syncing (joined, still being caught up)")
        rejoined.syncing = []
        XCTAssertNil(reason(sharded: true, ["c0": c0, "c1": rejoined, "c2": c2], acting: ["c0": 2, "c1": 6]))
    }
}

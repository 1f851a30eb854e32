import ChainCore
@testable import ChainCoordination
import XCTest

/// The sharded cluster's znodes against a real ZooKeeper: the same fencing as the chain znode.
final class ShardZnodeTests: ZooKeeperTestCase {
    func testSlotMapWritesAreVersionConditioned() async throws {
        let leader = try await coordinator("n1")
        let deposed = try await coordinator("n2")
        let none = try await leader.readSlots()
        XCTAssertNil(none)
        let first = SlotMap.even(chains: ["c0", "c1", "c2"], version: 1)
        let created = try await leader.writeSlots(first, expectedVersion: nil)
        XCTAssertEqual(created, 0)
        let read = try await deposed.readSlots()
        XCTAssertEqual(read?.0, first)
        let moved = SlotMap.even(chains: ["c0", "c1"], version: 2)
        let second = try await leader.writeSlots(moved, expectedVersion: 0)
        XCTAssertEqual(second, 1)
        do {
            try await deposed.writeSlots(first, expectedVersion: 0)
            XCTFail("a write based on a stale version must be fenced")
        } catch ZooKeeperError.badVersion {
        }
        let current = try await leader.readSlots()
        XCTAssertEqual(current?.0, moved)
        XCTAssertEqual(current?.version, 1)
    }

    func testEachChainHasItsOwnZnodeAndVersion() async throws {
        let leader = try await coordinator("n1")
        let emptyIDs = try await leader.chainIDs()
        XCTAssertEqual(emptyIDs, [])
        let a = ChainConfig(epoch: 1, members: ["n1", "n2"], addresses: ["n1": "h:1", "n2": "h:2"], leader: "n1")
        let b = ChainConfig(epoch: 1, members: ["n2", "n1"], addresses: ["n1": "h:1", "n2": "h:2"], leader: "n1")
        try await leader.writeChain(id: "c0", a, expectedVersion: nil)
        try await leader.writeChain(id: "c1", b, expectedVersion: nil)
        var a2 = a
        a2.epoch = 2
        a2.members = ["n2"]
        let v = try await leader.writeChain(id: "c0", a2, expectedVersion: 0)
        XCTAssertEqual(v, 1)
        let ids = try await leader.chainIDs()
        XCTAssertEqual(ids, ["c0", "c1"])
        let c0 = try await leader.readChain(id: "c0")
        let c1 = try await leader.readChain(id: "c1")
        XCTAssertEqual(c0?.0, a2)
        XCTAssertEqual(c1?.0, b)
        XCTAssertEqual(c1?.version, 0, "chains are versioned apart")
        let missing = try await leader.readChain(id: "c9")
        XCTAssertNil(missing)
        do {
            _ = try await leader.readChain(id: "../chain")
            XCTFail("a chain id is a plain name")
        } catch is CoordinationError {
        }
        let single = try await leader.readChain()
        XCTAssertNil(single, "the single chain's znode is untouched")
    }

    /// A chain that owns no slot (a new server's, before the first move into it) is watched too,
    /// from before the chains folder exists; and a slot map that records a move reads back whole.
    func testEveryChainIsWatchedAlsoOneThatOwnsNoSlot() async throws {
        let leader = try await coordinator("n1")
        let watcher = try await coordinator("n2")
        let events = EventRecorder(watcher.events)
        try await watcher.watchShards()
        let map = SlotMap.even(chains: ["c0"], version: 1)
        try await leader.writeSlots(map, expectedVersion: nil)
        let config = ChainConfig(epoch: 1, members: ["n1"], addresses: ["n1": "h:1"], leader: "n1")
        try await leader.writeChain(id: "c0", config, expectedVersion: nil)
        try await leader.writeChain(id: "c7", config, expectedVersion: nil)
        try await events.wait(for: "the chain without slots") { $0.contains(.shardChanged(id: "c7", config, version: 0)) }
        var next = config
        next.epoch = 2
        try await leader.writeChain(id: "c7", next, expectedVersion: 0)
        try await events.wait(for: "its next configuration") { $0.contains(.shardChanged(id: "c7", next, version: 1)) }

        let moving = try XCTUnwrap(map.starting(XCTUnwrap(SlotMove(slots: [0, 1, 2, 9], from: "c0", to: "c7"))))
        try await leader.writeSlots(moving, expectedVersion: 0)
        let read = try await watcher.readSlots()
        XCTAssertEqual(read?.0, moving)
        XCTAssertEqual(read?.0.moving?.ranges, [0...2, 9...9])
    }
}

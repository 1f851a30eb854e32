import XCTest
@testable import ChainCore

final class ClusterLeaderTests: XCTestCase {
    let leader = Leader.Config(expectedMembers: 5, formationTicks: 10, transferTicks: 50, fenceTicks: 0)
    let servers = ["n1", "n2", "n3", "n4", "n5"]

    func live(_ ids: [String], run: Int = 1) -> [NodeID: String] { Dictionary(uniqueKeysWithValues: ids.map { ($0, "\($0).\(run)") }) }
    func view(_ epoch: UInt64, _ ids: [NodeID], syncing: Set<NodeID> = [], runs: [NodeID: String] = [:]) -> ChainView {
        ChainView(epoch: epoch, members: ids, incarnations: Dictionary(uniqueKeysWithValues: ids.map { ($0, runs[$0] ?? "\($0).1") }),
                  syncing: syncing)
    }

    /// Writes of chain znodes in an action list, by chain id.
    func chainWrites(_ actions: [ClusterLeaderAction]) -> [String: (ChainView, Int32?)] {
        var writes: [String: (ChainView, Int32?)] = [:]
        for case .writeChain(let id, let view, _, let expected) in actions { writes[id] = (view, expected) }
        return writes
    }

    /// A sharded cluster of five servers, five chains of three, formed and its slot map written.
    func formed() -> ClusterLeader {
        var c = ClusterLeader(config: .init(leader: leader, chains: 5, replicas: 3, sharded: true))
        let actions = c.on(.elected(chains: [:], slots: nil, live: live(servers), now: 0))
        for (id, (view, _)) in chainWrites(actions) {
            _ = c.on(.chainWritten(id, view, version: 0))
        }
        let map = SlotMap.even(chains: (0..<5).map(ClusterLeader.chainID))
        _ = c.on(.slotsWritten(map, version: 0))
        for server in servers {
            _ = c.on(.progress(server, Dictionary(uniqueKeysWithValues: c.chains.map { ($0.key, Leader.Progress(epoch: 1, received: 0, durable: 0)) })))
        }
        return c
    }

    func testFormsEveryChainByPlacementThenWritesTheSlotMap() {
        var c = ClusterLeader(config: .init(leader: leader, chains: 5, replicas: 3, sharded: true))
        XCTAssertEqual(c.on(.elected(chains: [:], slots: nil, live: live(["n1", "n2", "n3"]), now: 0)), [], "waits for 5 servers")
        let actions = c.on(.membersChanged(live(servers)))
        let writes = chainWrites(actions)
        XCTAssertEqual(writes.count, 5)
        let placement = Placement.chains(servers: servers, count: 5, replicas: 3)
        for (index, members) in placement.enumerated() {
            let id = ClusterLeader.chainID(index)
            XCTAssertEqual(writes[id]?.0, view(1, members), "chain \(id) formed as placed, head first")
            XCTAssertNil(writes[id]?.1, "created")
            XCTAssertTrue(actions.contains(.writeChain(id, view(1, members), placement: members, expectedVersion: nil)),
                          "the placement is stored with the chain")
        }
        XCTAssertEqual(Set(writes.values.map { $0.0.head! }), Set(servers), "every server heads one chain")
        var last: [ClusterLeaderAction] = []
        for (id, (view, _)) in writes.sorted(by: { $0.key < $1.key }) {
            XCTAssertFalse(last.contains { if case .writeSlots = $0 { return true } else { return false } },
                           "the slot map waits for every chain")
            last = c.on(.chainWritten(id, view, version: 0))
        }
        XCTAssertEqual(last, [.writeSlots(SlotMap.even(chains: ["c0", "c1", "c2", "c3", "c4"]), expectedVersion: nil)])
    }

    func testAFailedServerIsRepairedInEveryChainItServes() {
        var c = formed()
        let before = c.chains.mapValues { $0.chain! }
        let actions = c.on(.membersChanged(live(["n1", "n2", "n4", "n5"])))
        let writes = chainWrites(actions)
        let holding = before.filter { $0.value.members.contains("n3") }
        XCTAssertEqual(holding.count, 3, "n3 holds three replicas")
        XCTAssertEqual(Set(writes.keys), Set(holding.keys), "one pass repairs every chain n3 was in, and only those")
        for (id, (view, expected)) in writes {
            XCTAssertEqual(view.members, before[id]!.members.filter { $0 != "n3" })
            XCTAssertEqual(view.epoch, before[id]!.epoch + 1, "each chain raises its own epoch")
            XCTAssertEqual(expected, 0)
        }
    }

    func testARevivedServerRejoinsOnlyTheChainsItIsPlacedIn() {
        var c = formed()
        for (id, (view, _)) in chainWrites(c.on(.membersChanged(live(["n1", "n2", "n4", "n5"])))) {
            _ = c.on(.chainWritten(id, view, version: 1))
        }
        var revived = live(servers)
        revived["n3"] = "n3.2"
        let actions = c.on(.membersChanged(revived))
        let transfers = actions.compactMap { action -> String? in
            if case .startTransfer(let id, _, "n3", _) = action { return id }
            return nil
        }
        let placed = c.chains.filter { $0.value.placement!.contains("n3") }.map(\.key)
        XCTAssertEqual(Set(transfers), Set(placed), "a snapshot of each of its chains, and of no other")
        XCTAssertEqual(transfers.count, 3)
        XCTAssertTrue(actions.allSatisfy { if case .startTransfer = $0 { return true } else { return false } })
    }

    func testAHeadOfSeveralChainsIsFencedOnce() {
        var c = ClusterLeader(config: .init(leader: leader, chains: 10, replicas: 3, sharded: true))
        for (id, (view, _)) in chainWrites(c.on(.elected(chains: [:], slots: nil, live: live(servers), now: 0))) {
            _ = c.on(.chainWritten(id, view, version: 0))
        }
        XCTAssertEqual(c.chains.values.filter { $0.chain?.head == "n2" }.count, 2, "n2 heads two chains")
        let actions = c.on(.unresponsive("n2"))
        XCTAssertEqual(actions.filter { $0 == .fence("n2") }.count, 1)
    }

    /// n1 heads c0 and c1. c0 finds n1 at both ends of dead links (its peers in c0 stop taking
    /// anything in) and fences it: c1, which still hears n1 fine, must keep its head until the
    /// fence completed too, not drop it when its znode goes (two heads answering).
    func testAHeadFencedForADeadLinkInOneChainKeepsItsPlaceInTheOthersUntilFenced() {
        var c = ClusterLeader(config: .init(leader: leader, chains: 2, replicas: 3, sharded: true))
        let stored = ["c0": ClusterLeader.StoredChain(view: view(1, ["n1", "n2", "n3"]), version: 0, placement: ["n1", "n2", "n3"]),
                      "c1": ClusterLeader.StoredChain(view: view(1, ["n1", "n4", "n5"]), version: 0, placement: ["n1", "n4", "n5"])]
        _ = c.on(.elected(chains: stored, slots: .init(map: SlotMap.even(chains: ["c0", "c1"]), version: 0), live: live(servers), now: 0))
        var c0 = view(1, ["n1", "n2", "n3"])
        var fenced = false
        for tick in stride(from: UInt64(1), through: 200, by: 3) {
            var actions = c.on(.tick(tick))
            let head = 100 + tick
            let epoch = c0.epoch
            for server in servers {
                var p: [SlotMap.ChainID: Leader.Progress] = ["c1": .init(epoch: 1, received: head, durable: head)]
                if c0.members.contains(server) {
                    let behind = server != "n1"  // n1's peers in c0 hear nothing from it
                    p["c0"] = .init(epoch: epoch, received: behind ? 50 : head, durable: behind ? 50 : head)
                }
                actions += c.on(.progress(server, p))
            }
            if let (view, _) = chainWrites(actions)["c0"] {
                c0 = view
                _ = c.on(.chainWritten("c0", view, version: Int32(view.epoch)))
                _ = c.on(.transferFailed("c0", joiner: "n2", from: view.tail!))
            }
            XCTAssertNil(chainWrites(actions)["c1"], "c1 keeps its head")
            if actions.contains(.fence("n1")) { fenced = true; break }
        }
        XCTAssertTrue(fenced, "c0 fences n1 after its second dead link")
        XCTAssertEqual(c0.members, ["n1", "n3"])
        let gone = c.on(.membersChanged(live(["n2", "n3", "n4", "n5"])))
        XCTAssertNil(chainWrites(gone)["c1"], "n1's znode went with the fence; its lease may still run: c1 waits")
        let after = c.on(.fenced("n1"))
        XCTAssertEqual(chainWrites(after)["c1"]?.0.members, ["n4", "n5"])
        XCTAssertEqual(chainWrites(after)["c0"]?.0.members, ["n3"])
    }

    func testANewLeaderWritesTheSlotMapItsPredecessorDidNot() {
        var c = ClusterLeader(config: .init(leader: leader, chains: 2, replicas: 3, sharded: true))
        let stored = ["c0": ClusterLeader.StoredChain(view: view(1, ["n1", "n2", "n3"]), version: 0, placement: ["n1", "n2", "n3"]),
                      "c1": ClusterLeader.StoredChain(view: view(1, ["n2", "n3", "n4"]), version: 0, placement: ["n2", "n3", "n4"])]
        let actions = c.on(.elected(chains: stored, slots: nil, live: live(servers), now: 0))
        XCTAssertEqual(actions, [.writeSlots(SlotMap.even(chains: ["c0", "c1"]), expectedVersion: nil)])
        XCTAssertEqual(c.chains["c1"]?.placement, ["n2", "n3", "n4"])
    }

    func testOneChainIsTheUnshardedClusterOfEveryServer() {
        var c = ClusterLeader(config: .init(leader: Leader.Config(expectedMembers: 3, formationTicks: 10, fenceTicks: 0)))
        let actions = c.on(.elected(chains: [:], slots: nil, live: live(["n1", "n2", "n3"]), now: 0))
        XCTAssertEqual(actions, [.writeChain("c0", view(1, ["n1", "n2", "n3"]), placement: nil, expectedVersion: nil)])
        _ = c.on(.chainWritten("c0", view(1, ["n1", "n2", "n3"]), version: 0))
        XCTAssertNil(c.slots, "no slot map without shards")
        let joins = c.on(.membersChanged(live(["n1", "n2", "n3", "n4"])))
        XCTAssertEqual(joins, [.startTransfer("c0", from: "n3", to: "n4", epoch: 1)], "every new server joins the one chain")
    }

    func testANewLeaderFormsTheChainsItsPredecessorDidNotWrite() {
        var c = ClusterLeader(config: .init(leader: leader, chains: 5, replicas: 3, sharded: true))
        let placement = Placement.chains(servers: servers, count: 5, replicas: 3)
        let stored = ["c0": ClusterLeader.StoredChain(view: view(1, placement[0]), version: 0, placement: placement[0]),
                      "c1": ClusterLeader.StoredChain(view: view(1, placement[1]), version: 0, placement: placement[1])]
        let writes = chainWrites(c.on(.elected(chains: stored, slots: nil, live: live(servers), now: 0)))
        XCTAssertEqual(Set(writes.keys), ["c2", "c3", "c4"], "the three chains never written")
        for (id, (view, expected)) in writes {
            XCTAssertEqual(view.members, placement[Int(id.dropFirst())!])
            XCTAssertNil(expected)
        }
    }
}

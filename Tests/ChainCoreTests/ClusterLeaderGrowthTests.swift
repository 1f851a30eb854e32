import XCTest
@testable import ChainCore

final class ClusterLeaderGrowthTests: XCTestCase {
    let leader = Leader.Config(expectedMembers: 5, formationTicks: 10, transferTicks: 50, fenceTicks: 0)
    let servers = ["n1", "n2", "n3", "n4", "n5"]

    func live(_ ids: [String]) -> [NodeID: String] { Dictionary(uniqueKeysWithValues: ids.map { ($0, "\($0).1") }) }

    /// Feeds the core's chain and slot writes back as written, and every server's progress,
    /// until it asks for nothing more; returns every action it took.
    @discardableResult
    func settle(_ c: inout ClusterLeader, _ first: [ClusterLeaderAction], copies: (SlotMove, UInt64) -> ClusterLeaderEvent? = {
        .slotsCopied(mapVersion: $1)
    }) -> [ClusterLeaderAction] {
        var pending = first, all: [ClusterLeaderAction] = []
        var versions: [String: Int32] = [:]
        var rounds = 0
        while !pending.isEmpty {
            rounds += 1
            XCTAssertLessThan(rounds, 500, "the core settles")
            if rounds >= 500 { break }
            let action = pending.removeFirst()
            all.append(action)
            switch action {
            case .writeChain(let id, let view, _, _):
                let version = (versions[id] ?? -1) + 1
                versions[id] = version
                pending += c.on(.chainWritten(id, view, version: version))
                for node in view.members {
                    pending += c.on(.progress(node, [id: Leader.Progress(epoch: view.epoch, received: 0, durable: 0)]))
                }
            case .writeSlots(let map, _):
                pending += c.on(.slotsWritten(map, version: Int32(map.version)))
            case .copySlots(let move, let version):
                if let event = copies(move, version) { pending += c.on(event) }
            case .startTransfer(let id, let from, let to, _):
                pending += c.on(.transferDone(id, joiner: to, from: from))
            default:
                break
            }
        }
        return all
    }

    func formed(chains: Int = 0) -> ClusterLeader {
        var c = ClusterLeader(config: .init(leader: leader, chains: chains, replicas: 3, sharded: true))
        settle(&c, c.on(.elected(chains: [:], slots: nil, live: live(servers), now: 0)))
        XCTAssertEqual(c.slots?.counts.count, 5)
        return c
    }

    func testANewServerHeadsANewChainAndTheSlotsSpreadOverEveryChain() throws {
        var c = formed()
        let actions = settle(&c, c.on(.membersChanged(live(servers + ["n6"]))))
        let formedNew = actions.compactMap { a -> [NodeID]? in
            if case .writeChain("c5", let view, _, nil) = a { return view.members } else { return nil }
        }
        XCTAssertEqual(formedNew, [["n6", "n1", "n2"]], "headed by the newcomer, replicas on the least loaded (then chain order)")
        let map = try XCTUnwrap(c.slots)
        XCTAssertNil(map.moving)
        XCTAssertEqual(map.counts, SlotMap.even(chains: (0..<6).map(ClusterLeader.chainID)).counts, "every chain owns its even share")
        let moves = actions.compactMap { a -> SlotMove? in if case .copySlots(let m, _) = a { return m } else { return nil } }
        let drops = actions.compactMap { a -> SlotMove? in if case .dropSlots(let m, _) = a { return m } else { return nil } }
        XCTAssertEqual(moves, drops, "every completed move is cleaned up at its donor")
        XCTAssertTrue(moves.allSatisfy { $0.to == "c5" && $0.slots.count <= SlotMove.slotsMax })
        XCTAssertEqual(moves.reduce(0) { $0 + $1.slots.count }, map.counts["c5"], "only the slots the new chain needed moved")
        // Each move was recorded, then ended by the very next map version.
        var last: SlotMap?
        for case .writeSlots(let m, _) in actions {
            if let last, let moving = last.moving {
                XCTAssertEqual(m.version, last.version + 1)
                XCTAssertTrue(moving.slots.allSatisfy { m.owners[$0] == moving.to }, "a copied move gives its slots to the recipient")
            }
            last = m
        }
    }

    func testReplicasMoveToTheNewServerUntilEveryServerHoldsAsMany() throws {
        var c = formed()
        let actions = settle(&c, c.on(.membersChanged(live(servers + ["n6"]))))
        var load: [NodeID: Int] = [:]
        for (id, core) in c.chains {
            let members = try XCTUnwrap(core.chain?.members)
            XCTAssertEqual(members, core.placement, "chain \(id) runs on its placement, in order")
            for node in members { load[node, default: 0] += 1 }
        }
        XCTAssertEqual(load, Dictionary(uniqueKeysWithValues: (servers + ["n6"]).map { ($0, 3) }), "every server holds 3 replicas")
        XCTAssertEqual(Set(c.chains.values.compactMap { $0.chain?.head }), Set(servers + ["n6"]), "heads stayed one per server")
        // Each replica moved by a join of the new server, then a configuration without the old one.
        let joins = actions.compactMap { a -> String? in if case .startTransfer(let id, _, "n6", _) = a { return id } else { return nil } }
        XCTAssertEqual(Set(joins), ["c0", "c3"])
        for id in joins {
            let views = actions.compactMap { a -> [NodeID]? in if case .writeChain(id, let v, _, _) = a { return v.members } else { return nil } }
            let joined = try XCTUnwrap(views.firstIndex { $0.count == 4 }, "\(id) had four members while the new one caught up")
            XCTAssertEqual(views[joined].last, "n6")
            XCTAssertEqual(views.last?.count, 3)
        }
    }

    func testAnUnplacedHeadIsMovedBehindThePlacedMembersBeforeItLeaves() {
        var l = Leader(config: leader, placement: ["n2", "n3", "n4"])
        let runs = live(["n1", "n2", "n3", "n4"])
        let start = ChainView(epoch: 5, members: ["n1", "n2", "n3", "n4"], incarnations: runs)
        _ = l.on(.elected(chain: start, version: 1, live: runs, now: 0))
        var next: [LeaderAction] = []
        for node in start.members { next += l.on(.progress(node, .init(epoch: 5, received: 9, durable: 9))) }
        var writes: [ChainView] = []
        for _ in 0..<6 {
            guard case .writeChain(let view, _)? = next.first else { break }
            writes.append(view)
            next = l.on(.chainWritten(view, version: Int32(writes.count + 1)))
            for node in view.members { next += l.on(.progress(node, .init(epoch: view.epoch, received: 9, durable: 9))) }
        }
        XCTAssertEqual(writes.map(\.members), [["n1", "n2", "n3", "n4"], ["n2", "n3", "n4", "n1"], ["n2", "n3", "n4"]],
                       "drain, n1 behind the placed members, then without it")
        XCTAssertEqual(writes.first?.handoff, "n2")
    }

    func testADecommissionedServersReplicasMoveToTheOthersHeadFirstToTheFewestHeads() throws {
        var c = formed(chains: 5)
        let actions = settle(&c, c.on(.decommissioned(["n3"])))
        var load: [NodeID: Int] = [:], heads: [NodeID: Int] = [:]
        for (id, core) in c.chains {
            let members = try XCTUnwrap(core.chain?.members)
            XCTAssertEqual(members, core.placement, "chain \(id) runs on its placement")
            XCTAssertEqual(members.count, 3)
            XCTAssertFalse(members.contains("n3"), "chain \(id) left n3")
            for node in members { load[node, default: 0] += 1 }
            heads[members[0], default: 0] += 1
        }
        XCTAssertEqual(load.values.sorted(), [3, 4, 4, 4], "15 replicas over 4 servers")
        XCTAssertEqual(heads.values.sorted(), [1, 1, 1, 2], "5 heads over 4 servers")
        XCTAssertNil(c.slots?.moving)
        XCTAssertEqual(c.slots?.counts.count, 5, "slots stay with their chains")
        XCTAssertFalse(actions.contains { if case .startTransfer(_, _, "n3", _) = $0 { return true } else { return false } })
        // Cancelled: n3 is a server like any other again, and replicas move back to it until no
        // server holds two more than another.
        settle(&c, c.on(.decommissioned([])))
        var after: [NodeID: Int] = [:]
        for core in c.chains.values { for node in core.chain?.members ?? [] { after[node, default: 0] += 1 } }
        XCTAssertEqual(after.values.sorted(), [3, 3, 3, 3, 3], "15 replicas over 5 servers again")
    }

    func testAFailedCopyLeavesTheSlotsWithTheDonorAndIsTriedAgain() throws {
        var c = formed()
        var failures = 0
        let actions = settle(&c, c.on(.membersChanged(live(servers + ["n6"])))) { _, version in
            failures += 1
            return failures <= 2 ? .slotsCopyFailed(mapVersion: version) : .slotsCopied(mapVersion: version)
        }
        var maps: [SlotMap] = []
        for case .writeSlots(let m, _) in actions { maps.append(m) }
        let first = try XCTUnwrap(maps.firstIndex { $0.moving != nil })
        let aborted = maps[first + 1]
        XCTAssertNil(aborted.moving)
        XCTAssertEqual(aborted.owners, maps[first].owners, "a failed copy leaves every slot where it was")
        XCTAssertFalse(actions.contains { if case .dropSlots = $0 { return $0 == .dropSlots(maps[first].moving!, mapVersion: aborted.version) } else { return false } })
        // Retried after the pause (the settle loop feeds no ticks, so tick past it).
        let retried = settle(&c, c.on(.tick(c.now + ClusterLeader.moveRetryTicks)))
        XCTAssertTrue(retried.contains { if case .copySlots = $0 { return true } else { return false } }, "tried again after the pause")
    }

    func testAMoveWhoseDonorHeadStopsAnsweringIsDroppedAtOnce() throws {
        var c = formed()
        var asked: (SlotMove, UInt64)?
        settle(&c, c.on(.membersChanged(live(servers + ["n6"])))) { move, version in
            asked = asked ?? (move, version)
            return asked!.1 == version ? nil : .slotsCopied(mapVersion: version)  // the first copy never answers
        }
        let (move, version) = try XCTUnwrap(asked)
        let recording = try XCTUnwrap(c.slots)
        XCTAssertEqual(recording.version, version, "waiting on the first copy")
        let donorHead = try XCTUnwrap(c.chains[move.from]?.chain?.head)
        let actions = c.on(.unresponsive(donorHead))
        let drop = actions.compactMap { a -> SlotMap? in if case .writeSlots(let m, _) = a { return m } else { return nil } }
        XCTAssertEqual(drop, [recording.ending(done: false)], "dropped without waiting for the copy's timeout")
        _ = c.on(.slotsWritten(drop[0], version: Int32(drop[0].version)))
        XCTAssertTrue(c.on(.slotsCopied(mapVersion: version)).isEmpty, "the abandoned copy's late answer changes nothing")
        XCTAssertEqual(c.slots?.owners, recording.owners)
    }

    func testAMoveFoundAtElectionIsDroppedBeforeAnythingElse() throws {
        let chains = (0..<5).map(ClusterLeader.chainID)
        let placement = Placement.chains(servers: servers, count: 5, replicas: 3)
        var stored: [String: ClusterLeader.StoredChain] = [:]
        for (i, members) in placement.enumerated() {
            let view = ChainView(epoch: 3, members: members, incarnations: Dictionary(uniqueKeysWithValues: members.map { ($0, "\($0).1") }))
            stored[chains[i]] = .init(view: view, version: 2, placement: members)
        }
        let even = SlotMap.even(chains: chains, version: 4)
        let move = try XCTUnwrap(SlotMove(slots: [4094, 4095], from: "c4", to: "c0"))
        let moving = try XCTUnwrap(even.starting(move))
        var c = ClusterLeader(config: .init(leader: leader, chains: 0, replicas: 3, sharded: true))
        let actions = c.on(.elected(chains: stored, slots: .init(map: moving, version: 7), live: live(servers), now: 0))
        XCTAssertEqual(actions, [.writeSlots(moving.ending(done: false), expectedVersion: 7)])
        XCTAssertEqual(moving.ending(done: false).owners, even.owners, "the donor keeps the slots")
    }

    func testAFixedChainCountMovesReplicasToANewServerButFormsNoChain() throws {
        var c = formed(chains: 5)
        let heads = Set(c.chains.values.compactMap { $0.chain?.head })
        let actions = settle(&c, c.on(.membersChanged(live(servers + ["n6"]))))
        XCTAssertEqual(c.chains.count, 5)
        XCTAssertFalse(actions.contains { if case .writeSlots = $0 { return true } else { return false } }, "no slot moves")
        var load: [NodeID: Int] = [:]
        for (id, core) in c.chains {
            let members = try XCTUnwrap(core.chain?.members)
            XCTAssertEqual(members, core.placement, "chain \(id) runs on its placement, in order")
            XCTAssertEqual(members.count, 3)
            for node in members { load[node, default: 0] += 1 }
        }
        XCTAssertEqual(load["n6"], 2, "15 replicas over 6 servers: the new one took 2")
        XCTAssertLessThanOrEqual(load.values.max()! - load.values.min()!, 1, "no server holds two more than another")
        XCTAssertEqual(Set(c.chains.values.compactMap { $0.chain?.head }), heads, "heads stayed")
    }

    func testSlotMoveRangesAndValidation() {
        XCTAssertNil(SlotMove(slots: [3, 2], from: "a", to: "b"), "ascending")
        XCTAssertNil(SlotMove(slots: [1], from: "a", to: "a"), "two chains")
        XCTAssertNil(SlotMove(slots: [4096], from: "a", to: "b"), "valid slots")
        let move = SlotMove(slots: [1, 2, 3, 7, 9, 10], from: "a", to: "b")!
        XCTAssertEqual(move.ranges, [1...3, 7...7, 9...10])
        XCTAssertTrue(move.contains(7) && !move.contains(8) && move.contains(10) && !move.contains(0))
        XCTAssertNil(SlotMap.even(chains: ["a", "b"]).starting(SlotMove(slots: [0], from: "b", to: "a")!), "b does not own slot 0")
    }
}

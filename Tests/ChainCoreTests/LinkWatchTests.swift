import XCTest
@testable import ChainCore

/// A link between two neighbours that both answer heartbeats but pass no updates (a partition
/// between servers, not from the leader): the leader drops one end (`LinkWatch`, `Leader.deadLink`).
final class LinkWatchTests: XCTestCase {
    let config = Leader.Config(expectedMembers: 3, formationTicks: 10, transferTicks: 50, fenceTicks: 0, linkStallTicks: 30)

    func live(_ ids: String...) -> [NodeID: String] { Dictionary(uniqueKeysWithValues: ids.map { ($0, "\($0).1") }) }
    func view(_ epoch: UInt64, _ ids: [NodeID], syncing: Set<NodeID> = [], handoff: NodeID? = nil) -> ChainView {
        ChainView(epoch: epoch, members: ids, incarnations: Dictionary(uniqueKeysWithValues: ids.map { ($0, "\($0).1") }),
                  syncing: syncing, handoff: handoff)
    }

    func leader(_ chain: ChainView, placement: [NodeID]? = nil) -> Leader {
        var l = Leader(config: config, placement: placement)
        _ = l.on(.elected(chain: chain, version: 1, live: live("a", "b", "c"), now: 0))
        return l
    }

    /// Every member reports (received, durable) at `tick`, as heartbeats do every few ticks.
    func beat(_ l: inout Leader, _ tick: UInt64, epoch: UInt64, _ state: [NodeID: (UInt64, UInt64)]) -> [LeaderAction] {
        var actions = l.on(.tick(tick))
        for (node, (received, durable)) in state.sorted(by: { $0.key < $1.key }) {
            actions += l.on(.progress(node, .init(epoch: epoch, received: received, durable: durable)))
        }
        return actions
    }

    /// Beats every 3 ticks from `from` through `to`, the head taking a write per beat; returns
    /// the first actions any beat produced, and the tick they came at. Transfers (re)started for
    /// a dropped member are left out: they are the usual rejoin, not a verdict on a link.
    /// `writing`: members whose last update received is still on its way to disk (durable one
    /// short of received): a joiner among them stays short of its target, and its own link is
    /// busy, not dead.
    func stall(_ l: inout Leader, from: UInt64, to: UInt64, epoch: UInt64, behind: [NodeID: UInt64],
               members: [NodeID], writing: Set<NodeID> = []) -> (UInt64, [LeaderAction])? {
        var head: UInt64 = 100
        for tick in stride(from: from, through: to, by: 3) {
            head += 1
            var state: [NodeID: (UInt64, UInt64)] = [:]
            for m in members {
                let received = behind[m] ?? head
                state[m] = (received, writing.contains(m) ? received - 1 : received)
            }
            let actions = beat(&l, tick, epoch: epoch, state).filter {
                if case .startTransfer = $0 { return false }
                return true
            }
            if !actions.isEmpty { return (tick, actions) }
        }
        return nil
    }

    func testTheSuccessorOfADeadLinkLeavesAfterTheStallLimit() {
        var l = leader(view(4, ["a", "b", "c"]))
        // b (and c behind it) stop at 50 while the head goes on: the link a -> b carries nothing.
        let found = stall(&l, from: 1, to: 60, epoch: 4, behind: ["b": 50, "c": 50], members: ["a", "b", "c"])
        XCTAssertEqual(found?.1, [.writeChain(view(5, ["a", "c"]), expectedVersion: 1)], "b leaves; c is not blamed for b's link")
        XCTAssertGreaterThanOrEqual(found?.0 ?? 0, 31, "not before the stall limit (30 ticks)")
        XCTAssertLessThanOrEqual(found?.0 ?? .max, 37, "within a beat or two of it")
        // b then rejoins behind the tail through the usual transfer.
        XCTAssertEqual(l.on(.chainWritten(view(5, ["a", "c"]), version: 2)), [.startTransfer(from: "c", to: "b", epoch: 5)])
    }

    /// Only the successor's packets to its head are lost: updates arrive, acks do not. The head's
    /// `stable` stays behind what its successor committed.
    func testAHeadThatGetsNoAckFromItsSuccessorDropsIt() {
        var l = leader(view(4, ["a", "b", "c"]))
        var found: (UInt64, [LeaderAction])?
        for tick in stride(from: UInt64(1), through: 60, by: 3) {
            var actions = l.on(.tick(tick))
            actions += l.on(.progress("a", .init(epoch: 4, received: 80, durable: 80, stable: 50)))
            actions += l.on(.progress("b", .init(epoch: 4, received: 80, durable: 80, stable: 80)))
            actions += l.on(.progress("c", .init(epoch: 4, received: 80, durable: 80, stable: 80)))
            if !actions.isEmpty { found = (tick, actions); break }
        }
        XCTAssertEqual(found?.1, [.writeChain(view(5, ["a", "c"]), expectedVersion: 1)])
        XCTAssertGreaterThanOrEqual(found?.0 ?? 0, 31)
        // A head whose own disk is behind waits for its disk, not for an ack: no verdict.
        var m = leader(view(4, ["a", "b", "c"]))
        for tick in stride(from: UInt64(1), through: 90, by: 3) {
            var actions = m.on(.tick(tick))
            actions += m.on(.progress("a", .init(epoch: 4, received: 80, durable: 50, stable: 50)))
            actions += m.on(.progress("b", .init(epoch: 4, received: 80, durable: 80, stable: 80)))
            actions += m.on(.progress("c", .init(epoch: 4, received: 80, durable: 80, stable: 80)))
            XCTAssertEqual(actions, [], "tick \(tick)")
        }
    }

    func testAMovingSuccessorASlowDiskAndAPausedMemberAreNotDeadLinks() {
        var l = leader(view(4, ["a", "b", "c"]))
        // Behind, but taking updates in: a successor catching up.
        for tick in stride(from: UInt64(1), through: 90, by: 3) {
            XCTAssertEqual(beat(&l, tick, epoch: 4, ["a": (1000, 1000), "b": (tick, tick), "c": (tick, tick)]), [], "tick \(tick)")
        }
        // Behind with updates of its own not yet on its disk: a slow disk, not a link.
        for tick in stride(from: UInt64(91), through: 180, by: 3) {
            XCTAssertEqual(beat(&l, tick, epoch: 4, ["a": (1000, 1000), "b": (1000, 1000), "c": (500, 400)]), [], "tick \(tick)")
        }
        // b and c stop reporting (paused): their last reports are not news of a dead link.
        XCTAssertEqual(beat(&l, 181, epoch: 4, ["a": (1000, 1000), "b": (400, 400), "c": (400, 400)]), [])
        for tick in stride(from: UInt64(184), through: 260, by: 3) {
            XCTAssertEqual(beat(&l, tick, epoch: 4, ["a": (1000 + tick, 1000 + tick)]), [], "tick \(tick)")
        }
        // Reports of an older epoch say nothing of this configuration's links.
        for tick in stride(from: UInt64(261), through: 330, by: 3) {
            XCTAssertEqual(beat(&l, tick, epoch: 4, ["a": (2000, 2000)]) + beat(&l, tick, epoch: 3, ["b": (7, 7), "c": (7, 7)]), [])
        }
    }

    /// The head cut from every peer: its successor leaves first, then the head itself (fenced,
    /// since it may answer reads) when its next link is dead too; not every successor in turn.
    func testAHeadAtBothEndsOfDeadLinksIsFencedAndDropped() {
        var l = leader(view(4, ["a", "b", "c"]))
        let first = stall(&l, from: 1, to: 60, epoch: 4, behind: ["b": 50, "c": 50], members: ["a", "b", "c"])
        XCTAssertEqual(first?.1, [.writeChain(view(5, ["a", "c"]), expectedVersion: 1)])
        XCTAssertEqual(l.on(.chainWritten(view(5, ["a", "c"]), version: 2)), [.startTransfer(from: "c", to: "b", epoch: 5)])
        let second = stall(&l, from: 40, to: 120, epoch: 5, behind: ["c": 50], members: ["a", "c"])
        XCTAssertEqual(second?.1, [.fence("a")], "a was an end of the first dead link: a is the one cut off")
        XCTAssertNil(stall(&l, from: 123, to: 200, epoch: 5, behind: ["c": 50], members: ["a", "c"]),
                     "nothing more while a is fenced")
        XCTAssertEqual(l.on(.fenced("a")), [.writeChain(view(6, ["c"]), expectedVersion: 2)])
    }

    func testASecondDeadLinkAfterTheWindowDropsTheSuccessorAgain() {
        var l = leader(view(4, ["a", "b", "c"]))
        _ = stall(&l, from: 1, to: 60, epoch: 4, behind: ["b": 50, "c": 50], members: ["a", "b", "c"])
        _ = l.on(.chainWritten(view(5, ["a", "c"]), version: 2))
        _ = l.on(.transferFailed(joiner: "b", from: "c"))
        let start = LinkWatch.windowTicks + 40
        let later = stall(&l, from: start, to: start + 60, epoch: 5, behind: ["c": 50], members: ["a", "c"])
        XCTAssertEqual(later?.1, [.writeChain(view(6, ["a"]), expectedVersion: 2)], "the first drop is older than the window")
    }

    func testAMiddleAtBothEndsLeavesWithoutAFence() {
        // b -> c dead: c leaves; then b -> d dead as well: b, an end of both, leaves itself.
        var l = Leader(config: config)
        _ = l.on(.elected(chain: view(4, ["a", "b", "c", "d"]), version: 1, live: live("a", "b", "c", "d"), now: 0))
        // d is short of what c holds (its target, 50), so it stays syncing; its last update is
        // still on its way to disk, so c -> d is not a dead link.
        let first = stall(&l, from: 1, to: 60, epoch: 4, behind: ["c": 50, "d": 48], members: ["a", "b", "c", "d"], writing: ["d"])
        XCTAssertEqual(first?.1, [.writeChain(view(5, ["a", "b", "d"]), expectedVersion: 1)])
        XCTAssertEqual(l.on(.chainWritten(view(5, ["a", "b", "d"]), version: 2)), [.startTransfer(from: "d", to: "c", epoch: 5)])
        let second = stall(&l, from: 63, to: 140, epoch: 5, behind: ["d": 60], members: ["a", "b", "d"])
        XCTAssertEqual(second?.1, [.writeChain(view(6, ["a", "d"]), expectedVersion: 2)], "b leaves, no fence: it is no head")
    }

    func testTheLastSyncedMemberBehindTheHeadIsNotDroppedForItsJoiner() {
        // After b left for a dead a -> b link, a is the only synced member and j a joiner: a
        // second dead link at a drops j, not a (the chain would have no complete copy left).
        var l = Leader(config: config)
        _ = l.on(.elected(chain: view(4, ["a", "b", "j"], syncing: ["j"]), version: 1, live: live("a", "b", "j"), now: 0))
        // j is short of what b holds (its target, 50), so it stays syncing; its last update is
        // still on its way to disk, so b -> j is not a dead link.
        let first = stall(&l, from: 1, to: 60, epoch: 4, behind: ["b": 50, "j": 48], members: ["a", "b", "j"], writing: ["j"])
        XCTAssertEqual(first?.1, [.writeChain(view(5, ["a", "j"], syncing: ["j"]), expectedVersion: 1)])
        XCTAssertEqual(l.on(.chainWritten(view(5, ["a", "j"], syncing: ["j"]), version: 2)), [.startTransfer(from: "j", to: "b", epoch: 5)])
        let second = stall(&l, from: 63, to: 140, epoch: 5, behind: ["j": 49], members: ["a", "j"])
        XCTAssertEqual(second?.1, [.writeChain(view(6, ["a"]), expectedVersion: 2)])
    }

    /// The same successor failing again behind the same member (a joiner that cannot catch up,
    /// `successorTooFarBehind`) says nothing against that member: the joiner goes again, the
    /// healthy tail stays.
    func testTheSameSuccessorFailingAgainIsDroppedAgainNotItsPredecessor() {
        var l = leader(view(4, ["a", "b", "c"]))
        let first = stall(&l, from: 1, to: 60, epoch: 4, behind: ["c": 50], members: ["a", "b", "c"])
        XCTAssertEqual(first?.1, [.writeChain(view(5, ["a", "b"]), expectedVersion: 1)])
        _ = l.on(.chainWritten(view(5, ["a", "b"]), version: 2))
        _ = l.on(.transferDone(joiner: "c", from: "b"))
        _ = l.on(.chainWritten(view(6, ["a", "b", "c"], syncing: ["c"]), version: 3))
        let second = stall(&l, from: 63, to: 140, epoch: 6, behind: ["c": 60], members: ["a", "b", "c"])
        XCTAssertEqual(second?.1, [.writeChain(view(7, ["a", "b"]), expectedVersion: 3)], "c again, not b")
        XCTAssertEqual(l.links.drops.count, 1, "a joiner's link is not kept as evidence")
    }

    /// A member at both ends of dead links is not dropped when the only other synced member is
    /// on its way out (being fenced): a joiner alone could not carry the chain.
    func testAMemberIsNotDroppedWhenTheOnlyOtherSyncedMemberIsBeingFenced() {
        var l = Leader(config: config)
        _ = l.on(.elected(chain: view(4, ["a", "b", "c", "d"], syncing: ["d"]), version: 1, live: live("a", "b", "c", "d"), now: 0))
        // b -> c dead first: c leaves.
        // d is short of what c holds (its target, 50), so it stays syncing; its last update is
        // still on its way to disk, so c -> d is not a dead link.
        let first = stall(&l, from: 1, to: 60, epoch: 4, behind: ["c": 50, "d": 48], members: ["a", "b", "c", "d"], writing: ["d"])
        XCTAssertEqual(first?.1, [.writeChain(view(5, ["a", "b", "d"], syncing: ["d"]), expectedVersion: 1)])
        _ = l.on(.chainWritten(view(5, ["a", "b", "d"], syncing: ["d"]), version: 2))
        XCTAssertEqual(l.on(.unresponsive("a")), [.fence("a")], "the head is being fenced")
        // b -> d dead too: b is an end of two dead links, but a is leaving and d is a joiner.
        let second = stall(&l, from: 63, to: 140, epoch: 5, behind: ["d": 49], members: ["a", "b", "d"])
        XCTAssertEqual(second?.1, [.writeChain(view(6, ["a", "b"]), expectedVersion: 2)], "d leaves, b stays")
    }

    func testAPlacedHeadIsNotHandedBackOverALinkDroppedMomentsAgo() {
        // Placed a, b, c; b dropped for a dead a -> b link and back at the tail: no handoff that
        // would make a -> b a chain link again until the window has passed.
        var l = leader(view(4, ["a", "b", "c"]), placement: ["a", "b", "c"])
        _ = stall(&l, from: 1, to: 60, epoch: 4, behind: ["b": 50, "c": 50], members: ["a", "b", "c"])
        _ = l.on(.chainWritten(view(5, ["a", "c"]), version: 2))
        _ = l.on(.transferDone(joiner: "b", from: "c"))
        _ = l.on(.chainWritten(view(6, ["a", "c", "b"]), version: 3))
        XCTAssertEqual(beat(&l, 70, epoch: 6, ["a": (200, 200), "b": (200, 200), "c": (200, 200)]), [],
                       "all hold 200, but a -> b was dropped 40 ticks ago")
        let after = LinkWatch.windowTicks + 40
        XCTAssertEqual(beat(&l, after, epoch: 6, ["a": (200, 200), "b": (200, 200), "c": (200, 200)]),
                       [.writeChain(view(7, ["a", "c", "b"], handoff: "a"), expectedVersion: 3)], "then the placed order comes back")
    }
}

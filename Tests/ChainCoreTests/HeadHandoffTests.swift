import XCTest
@testable import ChainCore

/// A placed chain whose head server rejoined at the tail gets it back as its head: drain, then
/// reorder (`Leader.headHandoff`, `ChainView.handoff`).
final class HeadHandoffTests: XCTestCase {
    let config = Leader.Config(expectedMembers: 3, formationTicks: 10, transferTicks: 50, fenceTicks: 0)
    let runs = ["a": "a.1", "b": "b.1", "c": "c.2"]

    func view(_ epoch: UInt64, _ ids: [NodeID], handoff: NodeID? = nil) -> ChainView {
        ChainView(epoch: epoch, members: ids, incarnations: runs.filter { ids.contains($0.key) }, handoff: handoff)
    }

    /// Chain placed on c, a, b (c its head) after c failed and rejoined at the tail.
    func leader() -> Leader {
        var l = Leader(config: config, placement: ["c", "a", "b"])
        _ = l.on(.elected(chain: view(7, ["a", "b", "c"]), version: 3, live: runs, now: 0))
        return l
    }

    func report(_ l: inout Leader, epoch: UInt64, _ state: [NodeID: (UInt64, UInt64)]) -> [LeaderAction] {
        var actions: [LeaderAction] = []
        for (node, (received, durable)) in state.sorted(by: { $0.key < $1.key }) {
            actions += l.on(.progress(node, .init(epoch: epoch, received: received, durable: durable)))
        }
        return actions
    }

    func testTheHeadDrainsThenThePlacedHeadLeadsAgain() {
        var l = leader()
        let drain = report(&l, epoch: 7, ["a": (40, 40), "b": (38, 38), "c": (37, 37)])
        XCTAssertEqual(drain, [.writeChain(view(8, ["a", "b", "c"], handoff: "c"), expectedVersion: 3)], "first the drain")
        XCTAssertEqual(l.on(.chainWritten(view(8, ["a", "b", "c"], handoff: "c"), version: 4)), [])
        // Reports of the old epoch, or with writes still in flight, are not a drained chain.
        XCTAssertEqual(report(&l, epoch: 7, ["a": (41, 41), "b": (41, 41), "c": (41, 41)]), [])
        XCTAssertEqual(report(&l, epoch: 8, ["a": (41, 41), "b": (41, 41), "c": (41, 40)]), [], "c has not made 41 durable")
        XCTAssertEqual(report(&l, epoch: 8, ["c": (41, 41)]),
                       [.writeChain(view(9, ["c", "a", "b"]), expectedVersion: 4)], "every member holds 41: reorder")
        XCTAssertEqual(l.on(.chainWritten(view(9, ["c", "a", "b"]), version: 5)), [])
        XCTAssertEqual(report(&l, epoch: 9, ["a": (41, 41), "b": (41, 41), "c": (41, 41)]), [], "placed head leads: nothing more")
    }

    func testAFailureDuringTheDrainEndsIt() {
        var l = leader()
        _ = report(&l, epoch: 7, ["a": (40, 40), "b": (40, 40), "c": (40, 40)])
        _ = l.on(.chainWritten(view(8, ["a", "b", "c"], handoff: "c"), version: 4))
        var gone = runs
        gone["b"] = nil
        XCTAssertEqual(l.on(.membersChanged(gone)), [.writeChain(view(9, ["a", "c"]), expectedVersion: 4)],
                       "the repair carries no handoff, so the head takes writes again")
    }

    func testAChainWhoseHeadIsPlacedButNotTheRestIsReorderedToo() {
        var l = Leader(config: config, placement: ["a", "c", "b"])
        _ = l.on(.elected(chain: view(7, ["a", "b", "c"]), version: 3, live: runs, now: 0))
        XCTAssertEqual(report(&l, epoch: 7, ["a": (40, 40), "b": (40, 40), "c": (40, 40)]),
                       [.writeChain(view(8, ["a", "b", "c"], handoff: "a"), expectedVersion: 3)],
                       "c may lack what b holds: reordering needs the drain too")
    }

    func testAnUnplacedChainNeverHandsOff() {
        var l = Leader(config: config)
        _ = l.on(.elected(chain: view(7, ["a", "b", "c"]), version: 3, live: runs, now: 0))
        XCTAssertEqual(report(&l, epoch: 7, ["a": (40, 40), "b": (40, 40), "c": (40, 40)]), [])
    }

    func testADrainingHeadSequencesNoNewWriteButAnswersRetriesAndReads() {
        let client = { (n: UInt64) in ClientRef(connection: 1, request: n) }
        var a = Replica(id: "a", lastSeq: 0)
        _ = a.on(.viewChanged(view(1, ["a", "b"])))
        _ = a.on(.lease(until: 1000))
        _ = a.on(.successorLinkUp("b"))
        _ = a.on(.ack(from: "b", epoch: 1, seq: 0))
        let request = RequestID(client: 9, seq: 1)
        XCTAssertEqual(a.on(.clientWrite(client(1), key: "k", value: [1], stored: nil, request: request)).count, 2, "forward and persist")
        _ = a.on(.viewChanged(view(2, ["a", "b"], handoff: "b")))
        XCTAssertEqual(a.on(.clientWrite(client(2), key: "j", value: [2], stored: nil, request: RequestID(client: 9, seq: 2))),
                       [.reply(client(2), .error(.handingOff(to: "b")))])
        XCTAssertEqual(a.on(.clientWrite(client(3), key: "k", value: [1], stored: nil, request: request)), [],
                       "a retry of the write in flight waits for it")
        XCTAssertEqual(a.read("j", stored: nil, now: 10), .value(nil), "reads are answered")
    }
}

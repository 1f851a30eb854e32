import ChainCore
import ChainWire
import NIOEmbedded
import XCTest
@testable import ChainServer

/// A join as the joiner sees it: outside the chain of epoch 4 (b -> c), it takes a snapshot from
/// the tail c and restarts its core from it.
final class SnapshotReceiverTests: XCTestCase {
    func testAJoinerTakesASnapshotFromTheTailOnly() throws {
        let loop = EmbeddedEventLoop()
        let context = Shells.context(loop, id: "j")
        let storage = FakeStorage()
        storage.values["stale"] = [0]
        let replica = ReplicaShell(id: "j", context: context, storage: storage, lastSeq: 3, durableEpoch: 0, requests: [], leaseMs: 300,
                                   connectSuccessor: { node, _ in FakeSuccessor(node: node) }, fail: { XCTFail("failed") })
        replica.viewChanged(ChainView(epoch: 4, members: ["b", "c"]))
        let receiver = SnapshotReceiver(replica: replica)
        let ref = ClientRef(connection: 9, request: 1)

        guard case .error(.refused, _) = receiver.rows(epoch: 4, from: "b", lastSeq: 40, [], done: false, ref: ref) else {
            return XCTFail("only the tail may send a snapshot")
        }
        guard case .error(.refused, _) = receiver.rows(epoch: 3, from: "c", lastSeq: 40, [], done: false, ref: ref) else {
            return XCTFail("a snapshot of another epoch is refused")
        }
        let outcome = WriteOutcome(reply: .put(old: nil, version: 39), seq: 39, request: RequestID(client: 1, seq: 1))
        XCTAssertEqual(receiver.outcomes(epoch: 4, from: "c", lastSeq: 40, [outcome], ref: ref), .ack(epoch: 4, seq: 40))
        XCTAssertEqual(receiver.rows(epoch: 4, from: "c", lastSeq: 40, [Row(key: "k", value: [7])], done: false, ref: ref),
                       .ack(epoch: 4, seq: 40))
        XCTAssertEqual(receiver.rows(epoch: 4, from: "c", lastSeq: 40, [], done: true, ref: ref), .ack(epoch: 4, seq: 40))

        XCTAssertEqual(storage.log, ["epoch 4", "reset 40"], "one reset: the snapshot replaces the stale database")
        XCTAssertEqual(storage.values, ["k": [7]])
        XCTAssertEqual(replica.core.received, 40, "the core restarted from the snapshot")
        XCTAssertEqual(replica.core.durable, 40)
    }

    func testOutcomesBeyondTheSnapshotAreRefused() {
        let loop = EmbeddedEventLoop()
        let context = Shells.context(loop, id: "j")
        let replica = ReplicaShell(id: "j", context: context, storage: FakeStorage(), lastSeq: 0, durableEpoch: 0, requests: [],
                                   leaseMs: 300, connectSuccessor: { node, _ in FakeSuccessor(node: node) }, fail: {})
        replica.viewChanged(ChainView(epoch: 1, members: ["c"]))
        let late = WriteOutcome(reply: .delete(existed: true, version: 50), seq: 50, request: RequestID(client: 1, seq: 1))
        guard case .error(.badRequest, _) = SnapshotReceiver(replica: replica)
            .outcomes(epoch: 1, from: "c", lastSeq: 40, [late], ref: ClientRef(connection: 1, request: 1)) else {
            return XCTFail("an outcome after the snapshot's seq cannot be part of it")
        }
    }
}

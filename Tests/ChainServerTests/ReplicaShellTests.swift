import ChainCore
import ChainStorage
import ChainWire
import NIOCore
import NIOEmbedded
import XCTest
@testable import ChainServer

/// The replica shell driven without sockets or sleeps: an embedded loop, embedded client
/// channels, in-memory storage whose commits the test performs, and a recording successor link.
final class ReplicaShellTests: XCTestCase {
    var loop: EmbeddedEventLoop!
    var context: ShellContext!
    var storage: FakeStorage!
    var successors: [FakeSuccessor] = []
    var failures = 0

    override func setUp() {
        loop = EmbeddedEventLoop()
        context = Shells.context(loop)
        storage = FakeStorage()
        successors = []
        failures = 0
    }

    func shell(id: NodeID = "a", lastSeq: UInt64 = 0, epoch: UInt64 = 0) -> ReplicaShell {
        ReplicaShell(id: id, context: context, storage: storage, lastSeq: lastSeq, durableEpoch: epoch, requests: [], leaseMs: 300,
                     connectSuccessor: { node, _ in
                         self.storage.log.append("connect \(node)")
                         let link = FakeSuccessor(node: node)
                         self.successors.append(link)
                         return link
                     },
                     fail: { self.failures += 1 })
    }

    /// Head `a` of a chain a -> b whose link to b is up and positioned.
    func head() -> ReplicaShell {
        let a = shell()
        a.viewChanged(ChainView(epoch: 1, members: ["a", "b"]))
        a.successorLinkUp("b")
        a.successorMessage(from: "b", .ack(epoch: 1, seq: 0))
        return a
    }

    func testAPutIsAnsweredOnlyOnceDurableHereAndAcknowledgedByTheSuccessor() throws {
        let a = head()
        let (client, connection) = try Shells.client(context, loop)
        a.write("k", value: [1], request: nil, ref: ClientRef(connection: connection, request: 7))
        a.flush()
        XCTAssertEqual(successors.last?.forwardedSeqs, [1], "forwarded before its own fsync: the disks work in parallel")
        XCTAssertEqual(storage.submitted.map(\.seq), [1])
        XCTAssertEqual(try client.frames(), [], "not durable, not acknowledged")

        storage.commit()
        loop.run()
        XCTAssertEqual(try client.frames(), [], "durable here, not yet acknowledged by the successor")

        a.successorMessage(from: "b", .ack(epoch: 1, seq: 1))
        a.flush()
        XCTAssertEqual(try client.frames(), [Frame(requestID: 7, .putResult(old: nil))])
        XCTAssertEqual(a.writes.inFlight(connection: connection), 0, "answered writes are no longer counted")
    }

    func testTheEpochIsDurableBeforeTheNewSuccessorIsDialed() {
        let a = shell()
        a.viewChanged(ChainView(epoch: 3, members: ["a", "b"]))
        XCTAssertEqual(storage.log, ["epoch 3", "connect b"])
        XCTAssertEqual(a.hello(), .hello(node: "a", epoch: 3))
        XCTAssertEqual(a.durableEpoch, 3)
    }

    func testAnEpochThatCannotBeStoredStopsTheServer() {
        storage.failEpochWrites = true
        let a = shell()
        a.viewChanged(ChainView(epoch: 2, members: ["a", "b"]))
        XCTAssertEqual(failures, 1)
        XCTAssertEqual(a.durableEpoch, 0, "nothing of epoch 2 may be sent")
    }

    func testOneConnectionCannotTakeEveryWriteSlot() throws {
        let a = head()
        let (greedy, g) = try Shells.client(context, loop)
        let (other, o) = try Shells.client(context, loop)
        for i in 0..<WriteTracker.perConnectionMax {
            a.write("k\(i)", value: [1], request: nil, ref: ClientRef(connection: g, request: UInt64(i)))
        }
        a.write("over", value: [1], request: nil, ref: ClientRef(connection: g, request: 99_999))
        a.write("fine", value: [1], request: nil, ref: ClientRef(connection: o, request: 1))
        a.flush()
        let refused = try greedy.frames()
        XCTAssertEqual(refused.count, 1)
        XCTAssertEqual(refused.first?.requestID, 99_999)
        guard case .error(.overloaded, _)? = refused.first?.message else { return XCTFail("\(refused)") }
        XCTAssertEqual(try other.frames(), [], "the other connection's write was taken")
        XCTAssertEqual(successors.last?.forwardedSeqs.count, WriteTracker.perConnectionMax + 1)
    }

    func testAReadOfAKeyWithNoWriteInFlightComesFromStorageUnderALease() throws {
        let a = head()
        storage.values["k"] = [4, 2]
        let (client, connection) = try Shells.client(context, loop)
        a.get("k", ref: ClientRef(connection: connection, request: 1))
        a.renewLease(until: context.nowMs + 300)
        a.get("k", ref: ClientRef(connection: connection, request: 2))
        a.flush()
        let frames = try client.frames()
        guard case .error(.unavailable, _)? = frames.first?.message else { return XCTFail("no lease yet: \(frames)") }
        XCTAssertEqual(frames.last, Frame(requestID: 2, .value([4, 2])))
    }

    func testARetryOfACommittedWriteIsAnsweredFromItsStoredOutcome() throws {
        let a = head()
        let (client, connection) = try Shells.client(context, loop)
        let request = RequestID(client: 5, seq: 1)
        a.write("k", value: [1], request: request, ref: ClientRef(connection: connection, request: 1))
        a.flush()
        storage.commit()
        loop.run()
        a.successorMessage(from: "b", .ack(epoch: 1, seq: 1))
        a.write("k", value: [1], request: request, ref: ClientRef(connection: connection, request: 2))
        a.flush()
        XCTAssertEqual(try client.frames(), [Frame(requestID: 1, .putResult(old: nil)), Frame(requestID: 2, .putResult(old: nil))])
        XCTAssertEqual(successors.last?.forwardedSeqs, [1], "applied once")
    }
}

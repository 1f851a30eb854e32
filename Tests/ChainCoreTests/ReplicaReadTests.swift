import XCTest
@testable import ChainCore

/// `Replica.read(_:stored:now:)` with closures, the shell's get (issue 18, cut 23): storage is
/// read only when neither a write in flight nor a cached change answers, the clock is read after
/// storage (a slow read must not outlive the lease), and a non-head reads neither.
final class ReplicaReadTests: XCTestCase {
    let view = ChainView(epoch: 1, members: ["a", "b", "c"])
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    func vv(_ s: String, _ version: UInt64) -> VersionedValue { VersionedValue(bytes(s), version: version) }

    /// Reads `key` at `r`, recording which of storage and the clock were read, in order.
    func read(_ r: Replica, _ key: String, stored: VersionedValue?, now: UInt64) -> (Reply, [String]) {
        var calls: [String] = []
        let reply = r.read(ByteKey(key), stored: { calls.append("stored"); return stored }, now: { calls.append("now"); return now })
        return (reply, calls)
    }

    func head() -> Replica {
        var a = Replica(id: "a", lastSeq: 0)
        _ = a.on(.viewChanged(view))
        _ = a.on(.lease(until: 1000))
        _ = a.on(.successorLinkUp("b"))
        _ = a.on(.ack(from: "b", epoch: 1, seq: 0))
        return a
    }

    func testAnUnknownKeyIsReadFromStorageAndTheClockAfterIt() {
        let (reply, calls) = read(head(), "k", stored: vv("S", 3), now: 1)
        XCTAssertEqual(reply, .value(vv("S", 3)))
        XCTAssertEqual(calls, ["stored", "now"])
    }

    func testAWriteInFlightOrACachedChangeAnswersWithoutStorage() {
        var a = head()
        _ = a.on(.clientWrite(ClientRef(connection: 1, request: 1), key: "k", value: bytes("new"), stored: vv("old", 0), request: nil))
        var (reply, calls) = read(a, "k", stored: vv("new", 1), now: 1)
        XCTAssertEqual(reply, .value(vv("old", 0)), "in flight: the committed value, not storage's")
        XCTAssertEqual(calls, ["now"])
        _ = a.on(.persisted(through: 1))
        _ = a.on(.ack(from: "b", epoch: 1, seq: 1))
        (reply, calls) = read(a, "k", stored: vv("junk", 9), now: 1)
        XCTAssertEqual(reply, .value(vv("new", 1)), "committed: its cached change")
        XCTAssertEqual(calls, ["now"])
        // A delete in flight over a cached value: the read still sees the committed value.
        _ = a.on(.clientWrite(ClientRef(connection: 1, request: 2), key: "k", value: nil, stored: nil, request: nil))
        (reply, calls) = read(a, "k", stored: vv("junk", 9), now: 1)
        XCTAssertEqual(reply, .value(vv("new", 1)))
        XCTAssertEqual(calls, ["now"])
        _ = a.on(.persisted(through: 2))
        _ = a.on(.ack(from: "b", epoch: 1, seq: 2))
        (reply, calls) = read(a, "k", stored: vv("junk", 9), now: 1)
        XCTAssertEqual(reply, .value(nil), "deleted, and known to be")
        XCTAssertEqual(calls, ["now"])
    }

    func testALapsedLeaseRefusesAfterTheStorageRead() {
        let (reply, calls) = read(head(), "k", stored: vv("S", 3), now: 1000)
        XCTAssertEqual(reply, .error(.noLease))
        XCTAssertEqual(calls, ["stored", "now"], "the lease is judged by the time after the storage read")
    }

    func testANonHeadReadsNeitherStorageNorTheClock() {
        var b = Replica(id: "b", lastSeq: 0)
        _ = b.on(.viewChanged(view))
        let (reply, calls) = read(b, "k", stored: vv("S", 3), now: 1)
        XCTAssertEqual(reply, .error(.notHead(head: "a")))
        XCTAssertEqual(calls, [])
    }

    func testAStorageErrorReachesTheCaller() {
        struct Broken: Error {}
        XCTAssertThrowsError(try head().read(ByteKey("k"), stored: { throw Broken() }, now: { 1 })) { error in
            XCTAssertTrue(error is Broken)
        }
    }
}

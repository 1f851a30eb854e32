import ChainCore
import ChainCoordination
import ChainKV
import ChainWire
import Foundation
import NIOCore
import NIOPosix
import XCTest

/// A retried write carries the same request id, and the head never applies it twice, even when
/// the retry reaches a new head after the first one died.
final class RetryTests: XCTestCase {
    func put(_ c: Connection, _ key: String, _ value: String, _ id: RequestID) throws -> Message {
        try blockingTest { try await c.request(.put(key: key, value: Array(value.utf8), request: id), timeout: .seconds(10)) }
    }

    func testRetryIsRecognizedAtTheSameAndAtANewHead() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let group = MultiThreadedEventLoopGroup.singleton
        let head = try cluster.chainInfo().head!
        let c = try blockingTest { try await Connection.connect(host: head.host, port: head.port, group: group, timeout: .seconds(2)) }
        let id = RequestID(client: 0xC0FFEE, seq: 1)
        // 1 KiB: over what the outcome on disk keeps (outcomeValueKeptMax), so the retries below
        // are answered from the servers' in-memory history.
        let first = String(repeating: "f", count: 1024)
        XCTAssertEqual(try put(c, "k", first, id), .putResult(old: nil))
        // The same request again (a retry after a lost reply): the original outcome, not a second write.
        XCTAssertEqual(try put(c, "k", first, id), .putResult(old: nil))
        XCTAssertEqual(try put(c, "k", "second", RequestID(client: 0xC0FFEE, seq: 2)), .putResult(old: Array(first.utf8)))
        c.close()

        // The head dies; the retry of request 2 goes to the new head, which learned of it by replication.
        cluster.kill(Int(head.id.dropFirst())! - 1)
        let deadline = Date().addingTimeInterval(30)
        var newHead: NodeAddress?
        while Date() < deadline {
            if let h = try? cluster.chainInfo().head, h.id != head.id { newHead = h; break }
            usleep(100_000)
        }
        let h = try XCTUnwrap(newHead, "a new head was named")
        let c2 = try blockingTest { try await Connection.connect(host: h.host, port: h.port, group: group, timeout: .seconds(2)) }
        defer { c2.close() }
        XCTAssertEqual(try put(c2, "k", "second", RequestID(client: 0xC0FFEE, seq: 2)), .putResult(old: Array(first.utf8)),
                       "the new head answers the retry with the original outcome, its 1 KiB old value included")
        XCTAssertEqual(try put(c2, "k", "third", RequestID(client: 0xC0FFEE, seq: 3)), .putResult(old: Array("second".utf8)),
                       "the retry was not applied a second time")
    }

    /// Torture seeds 11 and 24: a retry that reached a head restarted after a total failure, or a
    /// head that got the write in a snapshot, applied the write a second time. Outcomes are now
    /// stored with each write on every replica and sent with snapshots.
    func testRetryIsRecognizedAfterTotalFailureAndAfterASnapshot() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let group = MultiThreadedEventLoopGroup.singleton
        func connectToHead(other than: String? = nil) throws -> (Connection, String) {
            var head: NodeAddress?
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if let h = try? cluster.chainInfo().head, h.id != than { head = h; break }
                usleep(100_000)
            }
            let h = try XCTUnwrap(head, "a head other than \(than ?? "none") was named")
            return (try blockingTest { try await Connection.connect(host: h.host, port: h.port, group: group, timeout: .seconds(2)) }, h.id)
        }
        let large = [UInt8](repeating: 0x61, count: 1024)  // over outcomeValueKeptMax (128)
        let first = RequestID(client: 0xBEEF, seq: 1), second = RequestID(client: 0xBEEF, seq: 2)
        let bigOld = RequestID(client: 0xBEEF, seq: 4)
        var (c, _) = try connectToHead()
        XCTAssertEqual(try put(c, "k", "first", first), .putResult(old: nil))
        XCTAssertEqual(try put(c, "k", "second", second), .putResult(old: Array("first".utf8)))
        XCTAssertEqual(try blockingTest { [c] in try await c.request(.put(key: "big", value: large, request: RequestID(client: 0xBEEF, seq: 3)),
                                                                    timeout: .seconds(10)) }, .putResult(old: nil))
        XCTAssertEqual(try put(c, "big", "small", bigOld), .putResult(old: large))
        XCTAssertEqual(try put(c, "big", "small", bigOld), .putResult(old: large),
                       "before the restart, a retry gets the 1 KiB old value from the head's history")
        c.close()

        // Every server crashes, then all restart: the restarter serves the retries from its disk.
        for i in 0..<3 { cluster.kill(i) }
        for i in 0..<3 { cluster.waitExit(i) }
        for i in 0..<3 { try cluster.start(i) }
        try cluster.waitForChain(members: 3)
        var head: String
        (c, head) = try connectToHead()
        XCTAssertEqual(try put(c, "k", "second", second), .putResult(old: Array("first".utf8)),
                       "the restarted head answers with the original outcome instead of applying the put again")
        XCTAssertEqual(try put(c, "k", "first", first), .putResult(old: nil), "an older retry too")
        guard case .error(.oldValueNotKept, _) = try put(c, "big", "small", bigOld) else {
            return XCTFail("a retry whose old value was too large to keep is refused, not applied again")
        }
        XCTAssertEqual(try blockingTest { [c] in try await c.request(.get(key: "k"), timeout: .seconds(10)) }, .value(Array("second".utf8)))
        c.close()

        // The other two joined with a snapshot from the restarter. Once they caught up (a synced
        // member may carry the chain), kill the restarter: the new head knows the outcomes only
        // from the snapshot.
        let observer = try blockingTest { [cluster] in
            try await Coordinator.connect(to: cluster.zookeeper, cluster: cluster.cluster, nodeID: "observer", sessionTimeout: .seconds(4))
        }
        let deadline = Date().addingTimeInterval(30)
        var synced = false
        while Date() < deadline && !synced {
            if let (config, _) = try blockingTest({ try await observer.readChain() }), config.members.count == 3, config.syncing.isEmpty {
                synced = true
            } else {
                usleep(100_000)
            }
        }
        XCTAssertTrue(synced, "the leader marked the joiners caught up")
        cluster.kill(Int(head.dropFirst())! - 1)
        (c, head) = try connectToHead(other: head)
        defer { c.close() }
        XCTAssertEqual(try put(c, "k", "second", second), .putResult(old: Array("first".utf8)),
                       "a head that got the write in a snapshot answers its retry with the original outcome")
        XCTAssertEqual(try put(c, "k", "third", RequestID(client: 0xBEEF, seq: 5)), .putResult(old: Array("second".utf8)),
                       "no retry was applied a second time")
    }
}

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
        XCTAssertEqual(try put(c, "k", "first", id), .putResult(old: nil))
        // The same request again (a retry after a lost reply): the original outcome, not a second write.
        XCTAssertEqual(try put(c, "k", "first", id), .putResult(old: nil))
        XCTAssertEqual(try put(c, "k", "second", RequestID(client: 0xC0FFEE, seq: 2)), .putResult(old: Array("first".utf8)))
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
        XCTAssertEqual(try put(c2, "k", "second", RequestID(client: 0xC0FFEE, seq: 2)), .putResult(old: Array("first".utf8)),
                       "the new head answers the retry with the original outcome")
        XCTAssertEqual(try put(c2, "k", "third", RequestID(client: 0xC0FFEE, seq: 3)), .putResult(old: Array("second".utf8)),
                       "the retry was not applied a second time")
    }
}

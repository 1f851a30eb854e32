import ChainCore
import ChainWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest
@testable import ChainServer

/// The relaying server's side (`HeadRelay`) against heads on real loopback sockets: one that
/// accepts connections and never answers (a paused or cut-off head) and one that refuses them.
final class HeadRelayTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() {
        try? group.syncShutdownGracefully()
    }

    /// A head that accepts connections, reads and drops everything, and never answers.
    func silentHead(accepted: NIOLockedValueBox<Int>) throws -> Channel {
        try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                accepted.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    /// Relays `request` to `head` and waits for the one reply the contract promises.
    func relay(_ relay: HeadRelay, _ loop: EventLoop, _ request: Message, to head: NodeAddress,
               replies: NIOLockedValueBox<[Message]>) throws -> (Message, seconds: Double) {
        let before = replies.withLockedValue { $0.count }
        let start = Date()
        try loop.submit { relay.relay(request, to: head, for: ClientRef(connection: 1, request: UInt64(before))) }.wait()
        while replies.withLockedValue({ $0.count }) == before {
            XCTAssertLessThan(Date().timeIntervalSince(start), 5, "a relayed request is answered")
            if Date().timeIntervalSince(start) > 5 { throw CancellationError() }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return (replies.withLockedValue { $0[before] }, Date().timeIntervalSince(start))
    }

    func testASilentHeadGetsAnUnknownOutcomeForAWriteAndIsDialedAfresh() throws {
        let loop = group.next()
        let accepted = NIOLockedValueBox(0)
        let head = try silentHead(accepted: accepted)
        defer { head.close(promise: nil) }
        let address = NodeAddress(id: "n1", host: "127.0.0.1", port: head.localAddress!.port!)
        let replies = NIOLockedValueBox<[Message]>([])
        let relay = HeadRelay(gate: LoopGate(loop: loop), security: .none, logger: Logger(label: "test")) { reply, _ in
            replies.withLockedValue { $0.append(reply) }
        }
        let put = Message.relayed(chain: "c0", .put(key: "k", value: [1], request: RequestID(client: 1, seq: 1)))
        let (first, waited) = try self.relay(relay, loop, put, to: address, replies: replies)
        guard case .error(.chainChanged, _) = first else { return XCTFail("a write sent without an answer may have applied: \(first)") }
        XCTAssertGreaterThan(waited, 0.7, "answered after the answer timeout (0.8 s from arrival)")
        XCTAssertLessThan(waited, 2.0)
        let (second, _) = try self.relay(relay, loop, .relayed(chain: "c0", .get(key: "k")), to: address, replies: replies)
        guard case .error(.unavailable, _) = second else { return XCTFail("a read without an answer is unavailable: \(second)") }
        XCTAssertEqual(accepted.withLockedValue { $0 }, 2, "the silent connection was dropped and the head dialed again")
        XCTAssertEqual(try loop.submit { relay.inFlight }.wait(), 0, "every request answered once")
        try loop.submit { relay.close() }.wait()
    }

    func testAHeadThatRefusesGetsANotSentAnswerAtOnce() throws {
        let loop = group.next()
        // A port that nothing listens on: bound, then closed.
        let closed = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        let port = closed.localAddress!.port!
        try closed.close().wait()
        let replies = NIOLockedValueBox<[Message]>([])
        let relay = HeadRelay(gate: LoopGate(loop: loop), security: .none, logger: Logger(label: "test")) { reply, _ in
            replies.withLockedValue { $0.append(reply) }
        }
        let put = Message.relayed(chain: "c0", .put(key: "k", value: [1], request: RequestID(client: 1, seq: 2)))
        let (reply, waited) = try self.relay(relay, loop, put, to: NodeAddress(id: "n1", host: "127.0.0.1", port: port), replies: replies)
        guard case .error(.unavailable, _) = reply else { return XCTFail("a write that was never sent is unavailable: \(reply)") }
        XCTAssertLessThan(waited, 0.5, "a refused dial is answered at once")
        XCTAssertEqual(try loop.submit { relay.inFlight }.wait(), 0)
    }
}

import ChainWire
import NIOCore
import NIOEmbedded
import XCTest
@testable import ChainServer

/// The flush once per loop turn (`TurnFlush`) and the outbox's two kinds of channels: replies
/// flushed at the end of each read batch, successor links only with the turn's flush.
final class TurnFlushTests: XCTestCase {
    func testManyRequestsInOneTurnFlushOnceAtItsEnd() {
        let loop = EmbeddedEventLoop()
        var flushes = 0
        let turn = TurnFlush(loop: loop) { flushes += 1 }
        turn.request()
        turn.request()
        turn.request()
        XCTAssertEqual(flushes, 0, "not before the turn's end")
        loop.run()
        XCTAssertEqual(flushes, 1, "once for the whole turn")
        turn.request()
        loop.run()
        XCTAssertEqual(flushes, 2, "a later turn flushes again")
        loop.run()
        XCTAssertEqual(flushes, 2, "nothing requested: no flush")
    }

    func testRepliesLeaveAtOnceAndSuccessorWritesWithTheFlush() throws {
        let outbox = Outbox()
        let client = EmbeddedChannel()
        let successor = EmbeddedChannel()
        _ = try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        _ = try successor.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        outbox.write(.ack(epoch: 1, seq: 1), requestID: 7, to: client)
        outbox.write(.ack(epoch: 1, seq: 2), requestID: 0, to: successor, onTurn: true)
        outbox.flushReplies()
        XCTAssertNotNil(try client.readOutbound(as: Frame.self), "a reply is flushed with the read batch")
        XCTAssertNil(try successor.readOutbound(as: Frame.self), "a successor write waits for the turn's flush")
        outbox.flush()
        XCTAssertNotNil(try successor.readOutbound(as: Frame.self))
        XCTAssertNil(try client.readOutbound(as: Frame.self), "flushed once")
    }
}

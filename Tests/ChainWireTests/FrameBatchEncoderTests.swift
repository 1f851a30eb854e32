import ChainCore
import NIOCore
import NIOEmbedded
import XCTest
@testable import ChainWire

/// Frames written between two flushes leave as one buffer, in order, each frame's promise
/// completed with it; a burst is bounded; nothing is lost when the channel closes.
final class FrameBatchEncoderTests: XCTestCase {
    func put(_ n: Int, size: Int = 8) -> Frame {
        Frame(requestID: UInt64(n), .put(key: "k\(n)", value: [UInt8](repeating: UInt8(n & 0xFF), count: size), request: nil))
    }

    /// Every frame of a buffer, decoded (`u32 length | u8 version | u8 type | u64 request id | body`).
    func frames(_ buffer: ByteBuffer) throws -> [Frame] {
        var buffer = buffer
        var out: [Frame] = []
        while buffer.readableBytes > 0 {
            let length = try XCTUnwrap(buffer.readInteger(as: UInt32.self))
            var frame = try XCTUnwrap(buffer.readSlice(length: Int(length)))
            XCTAssertEqual(frame.readInteger(as: UInt8.self), WireLimits.version)
            let type = try XCTUnwrap(frame.readInteger(as: UInt8.self))
            let id = try XCTUnwrap(frame.readInteger(as: UInt64.self))
            out.append(Frame(requestID: id, try MessageCodec.decode(type: type, body: &frame)))
        }
        return out
    }

    func testAFlushWritesEveryFrameSinceTheLastAsOneBuffer() throws {
        let channel = EmbeddedChannel(handler: FrameBatchEncoder())
        let promises = (0..<3).map { _ in channel.eventLoop.makePromise(of: Void.self) }
        for n in 0..<3 { channel.write(put(n), promise: promises[n]) }
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self), "nothing before the flush")
        channel.flush()
        let batch = try XCTUnwrap(channel.readOutbound(as: ByteBuffer.self))
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self), "one buffer")
        XCTAssertEqual(try frames(batch), [put(0), put(1), put(2)])
        for p in promises { XCTAssertNoThrow(try p.futureResult.wait()) }
        // The next flush: only what came after.
        channel.writeAndFlush(put(3), promise: nil)
        XCTAssertEqual(try frames(try XCTUnwrap(channel.readOutbound(as: ByteBuffer.self))), [put(3)])
        XCTAssertTrue(try channel.finish().isClean)
    }

    /// `enqueue` (the server's replies) and pipeline writes share one batch, in call order; once
    /// the handler has left its pipeline, `enqueue` refuses instead of writing nowhere.
    func testEnqueuedFramesKeepTheirPlaceAmongWrittenOnes() throws {
        let encoder = FrameBatchEncoder()
        let channel = EmbeddedChannel(handler: encoder)
        channel.write(put(0), promise: nil)
        XCTAssertTrue(encoder.enqueue(put(1)))
        channel.write(put(2), promise: nil)
        XCTAssertTrue(encoder.enqueue(put(3)))
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self), "an enqueued frame waits for the flush too")
        channel.flush()
        XCTAssertEqual(try frames(try XCTUnwrap(channel.readOutbound(as: ByteBuffer.self))), [put(0), put(1), put(2), put(3)])
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self), "one buffer")
        XCTAssertTrue(encoder.enqueue(put(4)))
        channel.flush()
        XCTAssertEqual(try frames(try XCTUnwrap(channel.readOutbound(as: ByteBuffer.self))), [put(4)])
        try channel.pipeline.syncOperations.removeHandler(encoder).wait()
        XCTAssertFalse(encoder.enqueue(put(5)), "out of its pipeline")
        _ = try channel.finish()
    }

    func testABurstIsHandedOnAtTheBound() throws {
        let channel = EmbeddedChannel(handler: FrameBatchEncoder())
        let size = 16 << 10
        let count = FrameBatchEncoder.batchBytesMax / size + 2
        for n in 0..<count { channel.write(put(n, size: size), promise: nil) }
        // Written on to the channel (not flushed yet): the embedded channel shows writes on flush.
        channel.flush()
        var buffers: [ByteBuffer] = []
        while let b = try channel.readOutbound(as: ByteBuffer.self) { buffers.append(b) }
        XCTAssertEqual(buffers.count, 2, "one batch at the bound, then the rest")
        XCTAssertLessThanOrEqual(buffers[0].readableBytes, FrameBatchEncoder.batchBytesMax + size + 64)
        XCTAssertEqual(try buffers.flatMap { try frames($0) }, (0..<count).map { put($0, size: size) })
        _ = try channel.finish()
    }

    /// Records the buffers written towards the socket, as they pass.
    final class Recorder: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var written: [ByteBuffer] = []
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            written.append(unwrapOutboundIn(data))
            context.write(data, promise: promise)
        }
    }

    func testFramesWrittenBeforeACloseAreHandedOnNotKept() throws {
        let recorder = Recorder()
        let channel = EmbeddedChannel(handlers: [recorder, FrameBatchEncoder()])
        channel.write(put(1), promise: nil)
        channel.write(put(2), promise: nil)
        XCTAssertTrue(recorder.written.isEmpty)
        channel.close(promise: nil)
        // Handed on unflushed before the close, as a frame written without a flush always was.
        XCTAssertEqual(recorder.written.count, 1)
        XCTAssertEqual(try frames(recorder.written[0]), [put(1), put(2)])
    }
}

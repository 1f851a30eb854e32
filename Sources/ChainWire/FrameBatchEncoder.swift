import NIOCore

/// Writes frames, all those written between two flushes as one buffer: a read batch's replies, or
/// a flush's forwards down the chain, cost one allocation, one pending write and one byte count
/// instead of one each per frame (`MessageToByteHandler` allocates a buffer per frame whenever
/// the last one is still queued, which until a flush it always is). Encoding is infallible:
/// senders build only frames within the limits.
///
/// A batch reaching `batchBytesMax` is handed on at once, flushed or not, so a burst holds at
/// most that much here. The batch's buffer is reused once the channel has written it (it is
/// then uniquely held again), unless a large frame grew it past `keptCapacityMax`.
public final class FrameBatchEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = Frame
    public typealias OutboundOut = ByteBuffer

    /// Bytes a batch holds before it is handed on without waiting for the flush.
    public static let batchBytesMax = 256 << 10
    /// Capacity the reused buffer may keep: a scan page or snapshot chunk grows it, and it would
    /// otherwise hold that memory for the life of the connection.
    public static let keptCapacityMax = 64 << 10
    /// What a new buffer starts with: a flush's worth of small replies or a few forwards.
    static let initialCapacity = 4096

    private var buffer: ByteBuffer?
    /// Whether `buffer` holds frames not yet handed on.
    private var pending = false
    /// The promises of the frames in the batch, completed with its write.
    private var promises: [EventLoopPromise<Void>] = []
    /// This handler's place in its pipeline, while it is in one: `enqueue` writes from there.
    private var context: ChannelHandlerContext?

    public init() {}

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        append(unwrapOutboundIn(data), promise: promise, context)
    }

    /// Adds `frame` to the batch as a `write` from the pipeline's tail would, without the trip
    /// there: no `NIOAny` box for the frame (it is larger than the box's inline storage), no
    /// dynamic cast back, no walk through the handlers after this one (they handle no writes).
    /// That trip was about 15 % of a head's CPU under pipelined gets (issue 18, cut 24). The
    /// frame is flushed by the channel's next `flush()`, as a written one is, and keeps its place
    /// among frames written the usual way (both end in the same batch, in call order). Only on the
    /// channel's event loop; false when the handler has left its pipeline (the channel closed).
    public func enqueue(_ frame: Frame) -> Bool {
        guard let context else { return false }
        context.eventLoop.assertInEventLoop()
        append(frame, promise: nil, context)
        return true
    }

    private func append(_ frame: Frame, promise: EventLoopPromise<Void>?, _ context: ChannelHandlerContext) {
        if buffer == nil { buffer = context.channel.allocator.buffer(capacity: Self.initialCapacity) }
        if !pending {
            // The last batch was handed on: reuse the buffer (no copy if the channel is done with it).
            buffer!.clear()
            pending = true
        }
        MessageCodec.encode(frame, into: &buffer!)
        if let promise { promises.append(promise) }
        if buffer!.readableBytes >= Self.batchBytesMax { handOn(context) }
    }

    public func flush(context: ChannelHandlerContext) {
        handOn(context)
        context.flush()
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // Handed on unflushed, as a frame written without a flush always was: the close decides.
        handOn(context)
        context.close(mode: mode, promise: promise)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        handOn(context)
        self.context = nil
    }

    /// Writes the batch (not flushed) with one promise that completes every frame's.
    private func handOn(_ context: ChannelHandlerContext) {
        guard pending, let batch = buffer else { return }
        pending = false
        let promise: EventLoopPromise<Void>?
        switch promises.count {
        case 0: promise = nil
        case 1: promise = promises[0]
        default:
            let all = context.eventLoop.makePromise(of: Void.self)
            for each in promises { all.futureResult.cascade(to: each) }
            promise = all
        }
        promises.removeAll(keepingCapacity: true)
        context.write(wrapOutboundOut(batch), promise: promise)
        if batch.capacity > Self.keptCapacityMax { buffer = nil }
    }
}

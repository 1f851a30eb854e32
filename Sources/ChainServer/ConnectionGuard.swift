import ChainTransport
import ChainWire
import FoundationEssentials
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Open connections of one server, against `maxConnections`. Shared by every connection's guard.
final class ConnectionLimiter: @unchecked Sendable {
    let max: Int
    private let lock = NIOLock()
    private var open = 0
    /// A flood of connections logs once a second, not per connection.
    private let refusals = LogThrottle()

    /// Open and refused connections, and the limit, for the scrape (nil: not counted).
    private let metrics: OperationsMetrics?

    init(max: Int, metrics: OperationsMetrics? = nil) {
        self.max = max
        self.metrics = metrics
        metrics?.connectionsMax.record(max)
    }

    var count: Int { lock.withLock { open } }

    /// Takes a slot; false (and the count of refusals to log, when it is time to) when all are taken.
    func tryOpen() -> (ok: Bool, logRefusals: Int?) {
        let ok = lock.withLock { () -> Bool in
            guard open < max else { return false }
            open += 1
            metrics?.connectionsOpen.record(open)
            return true
        }
        if !ok { metrics?.connectionsRefused.increment() }
        return ok ? (true, nil) : (false, refusals.event())
    }

    func close() {
        lock.withLock {
            open -= 1
            metrics?.connectionsOpen.record(open)
        }
    }
}

/// First handler after TLS on every inbound connection, in front of the frame decoder. It holds
/// the limits that protect a server from clients that connect and then do nothing, or too little:
///
/// - `maxConnections`: a connection over the limit gets an error frame naming the limit and is
///   closed at once, before any other handler sees it;
/// - `frameReadTimeoutMs`: once a frame has started, the stream must reach its end (or at least
///   complete another frame) within this time, so trickling a byte a second does not hold a
///   connection and its partial frame forever;
/// - `idleTimeoutMs` (`IdleWatch`): a connection with no reads and no completed writes for that
///   long is closed.
final class ConnectionGuard: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How long the error frame of a refused or timed-out connection may take to leave.
    static let closeGrace = TimeAmount.seconds(1)

    private let limiter: ConnectionLimiter
    private let frameReadTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let logger: Logger
    private var counted = false
    private var closing = false
    private var progress = FrameProgress()
    private var frameTimer: Scheduled<Void>?
    private var idle: IdleWatch
    private var idleChecks: RepeatedTask?

    init(limiter: ConnectionLimiter, frameReadTimeout: TimeAmount, idleTimeout: TimeAmount, logger: Logger) {
        self.limiter = limiter
        self.frameReadTimeout = frameReadTimeout
        self.idleTimeout = idleTimeout
        self.logger = logger
        idle = IdleWatch(timeout: idleTimeout, now: .now())
    }

    func channelActive(context: ChannelHandlerContext) {
        let (ok, refusals) = limiter.tryOpen()
        guard ok else {
            if let refusals {
                logger.warning("connection limit reached; refusing connections", metadata: [
                    "maxConnections": "\(limiter.max)", "refusedSinceLastLine": "\(refusals)",
                ])
            }
            // The rest of the pipeline never hears of this connection.
            return close(context, "connection limit maxConnections (\(limiter.max)) reached; try again later")
        }
        counted = true
        idle = IdleWatch(timeout: idleTimeout, now: .now())
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        idleChecks = context.eventLoop.scheduleRepeatedTask(initialDelay: idle.period, delay: idle.period) { [weak self] _ in
            guard let self, self.idle.check(now: .now()) else { return }
            let ms = self.idleTimeout.nanoseconds / 1_000_000
            let context = bound.value
            self.logger.debug("closing an idle connection", metadata: [
                "remote": "\(context.channel.remoteAddress?.description ?? "?")", "idleTimeoutMs": "\(ms)",
            ])
            self.close(context, "idle for idleTimeoutMs (\(ms) ms)")
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimers()
        if counted {
            counted = false
            limiter.close()
            context.fireChannelInactive()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard counted, !closing else { return }
        idle.read()
        let buffer = unwrapInboundIn(data)
        let completed = progress.consume(buffer)
        if !progress.insideFrame {
            frameTimer?.cancel()
            frameTimer = nil
        } else if frameTimer == nil || completed > 0 {
            frameTimer?.cancel()
            let ms = frameReadTimeout.nanoseconds / 1_000_000
            // The task runs on this channel's loop, so the context may be used there (NIOLoopBound checks it).
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            frameTimer = context.eventLoop.scheduleTask(in: frameReadTimeout) { [weak self] in
                guard let self else { return }
                let context = bound.value
                self.logger.info("closing a connection that did not finish a frame in time", metadata: [
                    "remote": "\(context.channel.remoteAddress?.description ?? "?")", "frameReadTimeoutMs": "\(ms)",
                ])
                self.close(context, "frame not completed within frameReadTimeoutMs (\(ms) ms)")
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard idle.follows() else { return context.write(data, promise: promise) }
        let followed = promise ?? context.eventLoop.makePromise()
        followed.futureResult.whenComplete { [self] _ in idle.writeCompleted() }
        context.write(data, promise: followed)
    }

    private func stopTimers() {
        frameTimer?.cancel()
        frameTimer = nil
        idleChecks?.cancel()
        idleChecks = nil
    }

    /// Sends an error frame naming the limit (request id 0: it answers no request) and closes.
    private func close(_ context: ChannelHandlerContext, _ reason: String) {
        guard !closing else { return }
        closing = true
        stopTimers()
        let frame = MessageCodec.encode(Frame(requestID: 0, .error(.limitReached, reason)), allocator: context.channel.allocator)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
        // A peer that reads nothing may never let that write complete: close regardless, soon.
        context.eventLoop.scheduleTask(in: Self.closeGrace) { channel.close(promise: nil) }
    }
}

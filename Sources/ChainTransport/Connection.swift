package import ChainWire
internal import NIOConcurrencyHelpers
package import NIOCore
internal import NIOPosix

/// One TCP connection to a server with many requests in flight: replies are matched to requests
/// by request id, so requests never wait for each other on the client side. Servers use it too,
/// for the leader's control links and for streaming snapshots.
package final class Connection: Sendable {
    package let host: String
    package let port: Int
    package let channel: Channel
    private let handler: ResponseHandler

    private init(host: String, port: Int, channel: Channel, handler: ResponseHandler) {
        self.host = host
        self.port = port
        self.channel = channel
        self.handler = handler
    }

    /// Connects, and with `security` set completes TLS and the shared-secret handshake (within
    /// `timeout` as well) before it returns. A server that refuses our secret, or cannot prove its
    /// own, fails the call with `ChainKVError.server(.unauthorized, ...)`.
    package static func connect(host: String, port: Int, group: EventLoopGroup, timeout: TimeAmount,
                               security: ConnectionSecurity = .none) async throws -> Connection {
        let handler = ResponseHandler()
        let slot = HandshakeSlot()
        var bootstrap = ClientBootstrap(group: group)
        if let source = OutgoingSource.address { bootstrap = bootstrap.bind(to: source) }
        let channel = try await bootstrap
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    slot.ready = try security.prepare(channel, host: host, timeout: timeout)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: host, port: port).get()
        do {
            try await slot.ready?.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return Connection(host: host, port: port, channel: channel, handler: handler)
    }

    package var isActive: Bool { channel.isActive }
    package var address: String { "\(host):\(port)" }

    /// Sends `message` and waits for its reply, failing after `timeout`. The reply resumes the
    /// caller directly (`ReplySlot`), with no future in between.
    package func request(_ message: Message, timeout: TimeAmount) async throws -> Message {
        try await withUnsafeThrowingContinuation { continuation in
            send(message, to: .continuation(continuation), timeout: timeout)
        }
    }

    /// Sends `message`; the future holds its reply, or fails after `timeout`. Requests sent in one
    /// turn of the connection's loop leave in one write (`ResponseHandler`).
    package func send(_ message: Message, timeout: TimeAmount) -> EventLoopFuture<Message> {
        let promise = channel.eventLoop.makePromise(of: Message.self)
        send(message, to: .promise(promise), timeout: timeout)
        return promise.futureResult
    }

    private func send(_ message: Message, to reply: ReplySlot, timeout: TimeAmount) {
        let handler = self.handler
        if channel.eventLoop.inEventLoop {
            // Already on the connection's loop (the caller's task runs on it): no hop.
            handler.send(message, reply: reply, channel: channel, timeout: timeout)
        } else {
            // A closed channel's loop may be shut down, and a task given to a loop that has shut
            // down is dropped: its caller would wait forever. (Checked here, off the loop, before
            // the hop; the handler checks again on the loop.)
            guard channel.isActive else {
                return reply.fail(ChainKVError.network("connection to \(address) is closed"))
            }
            channel.eventLoop.execute { [channel] in
                handler.send(message, reply: reply, channel: channel, timeout: timeout)
            }
        }
    }

    /// As `request(_:timeout:)` with a `Duration` (the client library's options).
    package func request(_ message: Message, timeout: Duration) async throws -> Message {
        try await request(message, timeout: TimeAmount(timeout))
    }

    /// Closes the connection once what was sent has been handed to the socket: a request is
    /// written with its flush queued behind it on the loop (`ResponseHandler`), and a close drops
    /// writes not yet flushed. (A request sent and then closed at once must still go out.)
    package func close() {
        channel.flush()
        channel.close(promise: nil)
    }

    /// Returns once the connection is closed (by either side).
    package func waitUntilClosed() async {
        try? await channel.closeFuture.get()
    }
}

/// Pairs replies with pending requests. Confined to the channel's event loop.
///
/// Two costs per request are shared (issue 18: they were a third of the bench client's CPU with
/// 32 requests in flight per connection):
/// - the flush: requests are written as they come and flushed by one task queued behind them on
///   the loop, so the requests a loop turn produces leave in one `writev`, not one `write` each;
/// - the timeout: one timer per connection, armed for the earliest deadline of what is pending,
///   instead of a scheduled task per request (scheduling and cancelling each was ~10 %).
final class ResponseHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = RawFrame
    typealias OutboundOut = Frame

    private struct Pending {
        var reply: ReplySlot
        var deadline: NIODeadline
        var timeout: TimeAmount
    }

    private var pending: [UInt64: Pending] = [:]
    private var nextID: UInt64 = 1
    private var closed = false
    /// A flush is queued on the loop behind the requests written since the last one.
    private var flushQueued = false
    /// The timer, armed for the earliest deadline among `pending` (or earlier: it re-arms when it
    /// fires and finds that request answered).
    private var timer: (deadline: NIODeadline, task: Scheduled<Void>)?

    /// Requests in flight on one connection; past this, callers are refused instead of queued
    /// without bound.
    static let inflightMax = 4096

    func send(_ message: Message, reply: ReplySlot, channel: Channel, timeout: TimeAmount) {
        guard !closed, channel.isActive else {
            reply.fail(ChainKVError.network("connection to \(channel.remoteAddress?.description ?? "server") is closed"))
            return
        }
        guard pending.count < Self.inflightMax else {
            reply.fail(ChainKVError.server(.overloaded, "client has \(Self.inflightMax) requests in flight on one connection"))
            return
        }
        let id = nextID
        nextID += 1
        let deadline = NIODeadline.now() + timeout
        pending[id] = Pending(reply: reply, deadline: deadline, timeout: timeout)
        arm(deadline, on: channel.eventLoop)
        channel.write(Frame(requestID: id, message), promise: nil)
        guard !flushQueued else { return }
        flushQueued = true
        // Queued behind whatever else this loop turn runs (replies resuming callers that send
        // their next request): those requests share this flush.
        channel.eventLoop.execute { [self] in
            flushQueued = false
            channel.flush()
        }
    }

    /// Makes sure the timer fires no later than `deadline`.
    private func arm(_ deadline: NIODeadline, on loop: EventLoop) {
        if let timer {
            guard deadline < timer.deadline else { return }
            timer.task.cancel()
        }
        let task = loop.scheduleTask(deadline: deadline) { [weak self] () -> Void in self?.expire(on: loop) }
        timer = (deadline, task)
    }

    /// Fails every request past its deadline, then re-arms for the earliest one left.
    private func expire(on loop: EventLoop) {
        timer = nil
        let now = NIODeadline.now()
        var expiredIDs: [UInt64] = []
        var next: NIODeadline?
        for (id, entry) in pending {
            if entry.deadline <= now {
                expiredIDs.append(id)
            } else if next.map({ entry.deadline < $0 }) ?? true {
                next = entry.deadline
            }
        }
        let expired = expiredIDs.compactMap { pending.removeValue(forKey: $0) }
        if let next { arm(next, on: loop) }
        // Failing runs callers' callbacks, which may send again: the table is settled by now.
        for entry in expired {
            entry.reply.fail(ChainKVError.timeout("no reply within \(entry.timeout.nanoseconds / 1_000_000) ms"))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let raw = unwrapInboundIn(data)
        guard let entry = pending.removeValue(forKey: raw.requestID) else { return }
        do {
            entry.reply.succeed(try raw.decode().message)
        } catch {
            entry.reply.fail(ChainKVError.network("undecodable reply: \(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        timer?.task.cancel()
        timer = nil
        let all = pending
        pending.removeAll()
        for (_, entry) in all {
            entry.reply.fail(ChainKVError.chainFailure("connection closed with the request in flight"))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

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

    /// Sends `message` and waits for its reply, failing after `timeout`.
    package func request(_ message: Message, timeout: TimeAmount) async throws -> Message {
        let promise = channel.eventLoop.makePromise(of: Message.self)
        let handler = self.handler
        if channel.eventLoop.inEventLoop {
            // Already on the connection's loop (the caller's task runs on it): no hop.
            handler.send(message, promise: promise, channel: channel, timeout: timeout)
        } else {
            channel.eventLoop.execute { [channel] in
                handler.send(message, promise: promise, channel: channel, timeout: timeout)
            }
        }
        return try await promise.futureResult.get()
    }

    /// As `request(_:timeout:)` with a `Duration` (the client library's options).
    package func request(_ message: Message, timeout: Duration) async throws -> Message {
        try await request(message, timeout: TimeAmount(timeout))
    }

    package func close() {
        channel.close(promise: nil)
    }

    /// Returns once the connection is closed (by either side).
    package func waitUntilClosed() async {
        try? await channel.closeFuture.get()
    }
}

/// Pairs replies with pending requests. Confined to the channel's event loop.
final class ResponseHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = RawFrame
    typealias OutboundOut = Frame

    private var pending: [UInt64: (promise: EventLoopPromise<Message>, timer: Scheduled<Void>?)] = [:]
    private var nextID: UInt64 = 1
    private var closed = false

    /// Requests in flight on one connection; past this, callers are refused instead of queued
    /// without bound.
    static let inflightMax = 4096

    func send(_ message: Message, promise: EventLoopPromise<Message>, channel: Channel, timeout: TimeAmount) {
        guard !closed, channel.isActive else {
            promise.fail(ChainKVError.network("connection to \(channel.remoteAddress?.description ?? "server") is closed"))
            return
        }
        guard pending.count < Self.inflightMax else {
            promise.fail(ChainKVError.server(.overloaded, "client has \(Self.inflightMax) requests in flight on one connection"))
            return
        }
        let id = nextID
        nextID += 1
        let timer = channel.eventLoop.scheduleTask(in: timeout) { [weak self] () -> Void in
            guard let entry = self?.pending.removeValue(forKey: id) else { return }
            entry.promise.fail(ChainKVError.timeout("no reply within \(timeout.nanoseconds / 1_000_000) ms"))
        }
        pending[id] = (promise, timer)
        channel.writeAndFlush(Frame(requestID: id, message), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let raw = unwrapInboundIn(data)
        guard let entry = pending.removeValue(forKey: raw.requestID) else { return }
        entry.timer?.cancel()
        do {
            entry.promise.succeed(try raw.decode().message)
        } catch {
            entry.promise.fail(ChainKVError.network("undecodable reply: \(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        let all = pending
        pending.removeAll()
        for (_, entry) in all {
            entry.timer?.cancel()
            entry.promise.fail(ChainKVError.chainFailure("connection closed with the request in flight"))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

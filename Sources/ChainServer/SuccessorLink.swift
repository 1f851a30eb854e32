import ChainCore
import ChainTransport
import ChainWire
import Logging
import NIOCore
import NIOPosix

/// The outbound replication link to the successor: one ordered TCP connection that carries
/// forwards down and acks back. It reconnects with backoff for as long as the node stays our
/// successor; each fresh connection starts with `hello` and then a resend by the core.
final class SuccessorLink: SuccessorChannel, @unchecked Sendable {
    let node: NodeID
    private let context: ShellContext
    private let security: ConnectionSecurity
    private weak var delegate: SuccessorLinkDelegate?
    private var channel: Channel?
    /// `channel`'s frame encoder: forwards go straight into its batch (`Outbox.write`).
    private var encoder: FrameBatchEncoder?
    private var closed = false
    private var backoff = SuccessorLink.backoffMin

    static let backoffMin = TimeAmount.milliseconds(20)
    static let backoffMax = TimeAmount.milliseconds(1000)
    static let connectTimeout = TimeAmount.seconds(2)

    /// Starts connecting at once.
    init(node: NodeID, context: ShellContext, security: ConnectionSecurity, delegate: SuccessorLinkDelegate) {
        self.node = node
        self.context = context
        self.security = security
        self.delegate = delegate
        context.loop.preconditionInEventLoop()
        connect()
    }

    func close() {
        closed = true
        channel?.close(promise: nil)
        channel = nil
        encoder = nil
    }

    func send(_ message: Message) {
        context.outbox.write(message, requestID: 0, to: channel, encoder: encoder, onTurn: true)
    }

    private func connect() {
        guard !closed else { return }
        guard let address = context.addresses[node] else {
            context.logger.warning("no address for successor yet; retrying", metadata: ["successor": "\(node)"])
            retry()
            return
        }
        let security = self.security
        let slot = HandshakeSlot()
        var bootstrap = ClientBootstrap(group: context.loop)
        if let source = OutgoingSource.address { bootstrap = bootstrap.bind(to: source) }
        bootstrap = bootstrap
            .connectTimeout(Self.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    // TLS and the shared-secret handshake, when configured, come before hello.
                    slot.ready = try security.prepare(channel, host: address.host, timeout: Self.connectTimeout)
                    try channel.pipeline.syncOperations.addHandler(SuccessorLinkHandler(link: self))
                }
            }
        bootstrap.connect(host: address.host, port: address.port).flatMap { channel in
            (slot.ready ?? channel.eventLoop.makeSucceededVoidFuture())
                .map { channel }
                .flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
        }.whenComplete { [self] result in
            switch result {
            case .success(let ch):
                guard !closed, let delegate else { ch.close(promise: nil); return }
                channel = ch
                encoder = try? ch.pipeline.syncOperations.handler(type: FrameBatchEncoder.self)
                backoff = Self.backoffMin
                ch.writeAndFlush(Frame(requestID: 0, delegate.hello()), promise: nil)
                delegate.successorLinkUp(node)
            case .failure(let error):
                // A refused secret is a configuration mistake, not a transient failure: say so.
                let level: Logger.Level = (error as? ChainKVError)?.isUnauthorized == true ? .warning : .debug
                context.logger.log(level: level, "connect to successor failed", metadata: ["successor": "\(node)", "error": "\(error)"])
                retry()
            }
        }
    }

    private func retry() {
        guard !closed else { return }
        let delay = backoff
        backoff = min(backoff * 2, Self.backoffMax)
        context.loop.scheduleTask(in: delay) { [self] in connect() }
    }

    fileprivate func received(_ message: Message) {
        delegate?.successorMessage(from: node, message)
    }

    fileprivate func readBatchDone() {
        delegate?.flush()
    }

    fileprivate func lost(_ ch: Channel) {
        guard channel === ch else { return }
        channel = nil
        encoder = nil
        // Also on every new epoch that keeps this successor (it closes the old epoch's link):
        // routine, so debug; a successor that stays away shows as the leader's repair.
        context.logger.debug("link to successor lost; reconnecting", metadata: ["successor": "\(node)"])
        retry()
    }
}

private final class SuccessorLinkHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = RawFrame
    private let link: SuccessorLink

    init(link: SuccessorLink) { self.link = link }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let frame = try? unwrapInboundIn(data).decode() else {
            // The successor speaks our protocol; a frame we cannot read means the stream is broken.
            context.close(promise: nil)
            return
        }
        link.received(frame.message)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        link.readBatchDone()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        link.lost(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

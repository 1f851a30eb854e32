import ChainCore
import ChainTransport
import ChainWire
import Logging
import NIOCore

/// One inbound connection: a client, or a predecessor once it has sent `hello`.
///
/// A frame whose body fails to decode gets an error reply with its request id and the connection
/// stays open; a framing error (oversized or garbled length) closes this connection only.
final class ConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = RawFrame
    typealias OutboundOut = Frame

    private let node: ServerNode
    /// Framing errors, logged at most once a second (with the count since the last line).
    private static let framingErrors = LogThrottle()
    private var connectionID: UInt64 = 0
    /// Set by `hello`: from then on the connection carries replication traffic of this chain
    /// from this node.
    private var peer: (node: NodeID, chain: String)?

    init(node: ServerNode) {
        self.node = node
    }

    func channelActive(context: ChannelHandlerContext) {
        // The channel's encoder, for replies written straight into its batch (`Outbox.reply`).
        let encoder = try? context.pipeline.syncOperations.handler(type: FrameBatchEncoder.self)
        connectionID = node.connectionOpened(context.channel, encoder: encoder)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        node.connectionClosed(connectionID)
        if let peer { node.predecessorClosed(peer.node, chain: peer.chain, channel: context.channel) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let raw = unwrapInboundIn(data)
        let frame: Frame
        do {
            frame = try raw.decode()
        } catch {
            reply(.error(error.errorCode, error.description), requestID: raw.requestID, context)
            return
        }
        switch frame.message {
        case .hello(let from, _) where !node.config.sharded:
            hello(from: from, chain: ClusterLeader.soleChain, requestID: frame.requestID, context)
        case .onChain(let chain, .hello(let from, _)) where node.config.sharded:
            hello(from: from, chain: chain, requestID: frame.requestID, context)
        case .hello, .onChain(_, .hello):
            refuse("a hello must name a chain exactly when the cluster has several", requestID: frame.requestID, context)
        case .forward:
            guard let peer else {
                return refuse("peer messages need a hello first", requestID: frame.requestID, context)
            }
            node.peerMessage(from: peer.node, chain: peer.chain, frame.message)
        default:
            node.request(frame.message, ref: ClientRef(connection: connectionID, request: frame.requestID))
        }
    }

    private func hello(from: NodeID, chain: String, requestID: UInt64, _ context: ChannelHandlerContext) {
        guard peer == nil || (peer?.node == from && peer?.chain == chain) else {
            return refuse("one hello per link", requestID: requestID, context)
        }
        guard node.predecessorHello(from: from, chain: chain, channel: context.channel) else {
            return refuse("this server has no chain \(chain)", requestID: requestID, context)
        }
        peer = (from, chain)
    }

    private func refuse(_ text: String, requestID: UInt64, _ context: ChannelHandlerContext) {
        reply(.error(.refused, text), requestID: requestID, context)
        context.close(promise: nil)
    }

    /// Replies leave at the end of each read batch; the forwards down the chain and the updates
    /// for the commit thread once per loop turn, for all the batches read in it (`TurnFlush`).
    func channelReadComplete(context: ChannelHandlerContext) {
        node.context.outbox.flushReplies()
        node.turnFlush.request()
        context.fireChannelReadComplete()
    }

    /// Backpressure: while the peer does not read our replies (the channel's outbound buffer is
    /// over its high-water mark), stop reading its requests, so replies cannot pile up without
    /// bound. A peer that reads nothing at all is then idle and closed after `idleTimeoutMs`.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        context.channel.setOption(.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    private func reply(_ message: Message, requestID: UInt64, _ context: ChannelHandlerContext) {
        node.context.outbox.write(message, requestID: requestID, to: context.channel)
        node.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Framing errors and resets end this connection only; the server carries on.
        if let wire = error as? WireError {
            // Anyone can send garbage: a flood of such connections logs one line a second.
            node.metrics.operations.framingErrors.increment()
            if let count = Self.framingErrors.event() {
                node.logger.warning("closing connections after framing errors", metadata: ["error": "\(wire)", "connections": "\(count)"])
            }
            reply(.error(wire.errorCode, wire.description), requestID: 0, context)
        } else {
            node.logger.debug("connection error", metadata: ["error": "\(error)"])
        }
        context.close(promise: nil)
    }
}

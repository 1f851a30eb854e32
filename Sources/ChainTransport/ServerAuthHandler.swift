package import ChainWire
package import Logging
package import NIOCore

/// The server side of the shared-secret handshake (see `SharedSecret`). It sends a challenge as
/// soon as a connection opens; until the answer proves the secret, nothing else is accepted: any
/// other frame gets an `unauthorized` error (with that frame's request id) and the connection is
/// closed, and so is a connection that does not answer within `authenticationTimeout`.
package final class ServerAuthHandler: ChannelInboundHandler, @unchecked Sendable {
    package typealias InboundIn = RawFrame
    package typealias InboundOut = RawFrame
    package typealias OutboundOut = Frame

    /// Time to answer the challenge. One round trip is enough; the limit keeps connections that
    /// never authenticate from holding a connection slot for long.
    static let authenticationTimeout = TimeAmount.seconds(10)

    /// One log line a second at most, however many connections fail (shared by all connections).
    private static let refusals = LogThrottle()

    private let secret: SharedSecret
    private let serverNonce = SharedSecret.nonce()
    private let logger: Logger
    private var authenticated = false
    /// Set once refused: the connection is closing; frames still arriving are dropped.
    private var refused = false
    private var timer: Scheduled<Void>?

    package init(secret: SharedSecret, logger: Logger) {
        self.secret = secret
        self.logger = logger
    }

    package func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(Frame(requestID: 0, .authChallenge(nonce: serverNonce))), promise: nil)
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: Self.authenticationTimeout) { [weak self] in
            guard let self, !self.authenticated else { return }
            self.refuse(channel, requestID: 0, "no authentication within \(Self.authenticationTimeout.nanoseconds / 1_000_000_000) s")
        }
        context.fireChannelActive()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if authenticated { return context.fireChannelRead(data) }
        if refused { return }
        let raw = unwrapInboundIn(data)
        guard case .authResponse(let proof, let clientNonce)? = (try? raw.decode())?.message else {
            return refuse(context.channel, requestID: raw.requestID,
                          "this server requires authentication with the cluster's shared secret (secretFile) first")
        }
        guard SharedSecret.same(proof, secret.clientProof(serverNonce: serverNonce, clientNonce: clientNonce)) else {
            return refuse(context.channel, requestID: raw.requestID, "wrong shared secret")
        }
        authenticated = true
        timer?.cancel()
        let answer = secret.serverProof(serverNonce: serverNonce, clientNonce: clientNonce)
        context.writeAndFlush(wrapOutboundOut(Frame(requestID: raw.requestID, .authOK(proof: answer))), promise: nil)
    }

    private func refuse(_ channel: Channel, requestID: UInt64, _ reason: String) {
        guard !refused, channel.isActive else { return }
        refused = true
        timer?.cancel()
        if let count = Self.refusals.event() {
            logger.warning("refusing an unauthenticated connection", metadata: [
                "remote": "\(channel.remoteAddress?.description ?? "?")", "reason": "\(reason)", "refusedSinceLastLine": "\(count)",
            ])
        }
        let frame = Frame(requestID: requestID, .error(.unauthorized, "unauthorized: \(reason)"))
        channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
    }
}

internal import ChainWire
internal import NIOCore

/// The connecting side of the shared-secret handshake (see `SharedSecret`): answers the server's
/// challenge, checks the server's proof, and only then lets frames through to the handler after
/// it. `authenticated` completes when the server is proven, or fails with the reason.
final class ClientAuthHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = RawFrame
    typealias InboundOut = RawFrame
    typealias OutboundOut = Frame

    private let secret: SharedSecret
    private let clientNonce = SharedSecret.nonce()
    private var serverNonce: [UInt8]?
    private var done = false
    let authenticated: EventLoopPromise<Void>

    init(secret: SharedSecret, eventLoop: EventLoop) {
        self.secret = secret
        self.authenticated = eventLoop.makePromise(of: Void.self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if done { return context.fireChannelRead(data) }
        let raw = unwrapInboundIn(data)
        switch (try? raw.decode())?.message {
        case .authChallenge(let nonce)? where serverNonce == nil:
            serverNonce = nonce
            let proof = secret.clientProof(serverNonce: nonce, clientNonce: clientNonce)
            context.writeAndFlush(wrapOutboundOut(Frame(requestID: 0, .authResponse(proof: proof, nonce: clientNonce))), promise: nil)
        case .authOK(let proof)? where serverNonce != nil:
            guard SharedSecret.same(proof, secret.serverProof(serverNonce: serverNonce!, clientNonce: clientNonce)) else {
                return fail(context, .server(.unauthorized, "the server's proof does not match our shared secret"))
            }
            done = true
            authenticated.succeed(())
        case .error(let code, let text)?:
            fail(context, .server(code, text))
        case let other:
            fail(context, .network("unexpected \(other.map { "\($0.kind)" } ?? "undecodable frame") during authentication"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            authenticated.fail(ChainKVError.network("connection closed during authentication"))
        }
        context.fireChannelInactive()
    }

    /// Gives up (the caller's deadline passed) unless the handshake already ended. On the loop.
    func expire(_ channel: Channel, _ error: ChainKVError) {
        guard !done else { return }
        done = true
        authenticated.fail(error)
        channel.close(promise: nil)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: ChainKVError) {
        guard !done else { return }
        done = true
        authenticated.fail(error)
        context.close(promise: nil)
    }
}

internal import ChainWire
public import FoundationEssentials
package import NIOCore
package import NIOSSL

/// How a connection to a server proves itself and protects its bytes: the cluster's shared secret
/// (challenge–response right after connecting) and TLS. Both optional; `.none` is plain TCP, for
/// servers configured without them.
public struct ConnectionSecurity: Sendable {
    public var secret: SharedSecret?
    /// TLS (the CAs to trust); nil: plain TCP.
    public var tls: TLS?

    public init(secret: SharedSecret? = nil, tls: TLS? = nil) {
        self.secret = secret
        self.tls = tls
    }

    public static let none = ConnectionSecurity()

    /// TLS on a connection to a server: the CA certificates trusted, and the check that the
    /// server's certificate names the host or IP address dialed.
    public struct TLS: Sendable {
        /// The TLS client context (NIOSSL), for the connections made inside the package.
        package let context: NIOSSLContext

        /// Trusts the CA certificates in `caFile` (PEM); TLS 1.2 at least. Throws
        /// `ChainKVError.invalidArgument` when the file cannot be read or holds no certificate.
        public init(trusting caFile: String) throws {
            do {
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
                tls.minimumTLSVersion = .tlsv12
                context = try NIOSSLContext(configuration: tls)
            } catch {
                throw ChainKVError.invalidArgument("cannot use TLS CA file \(caFile): \(error)")
            }
        }
    }

    /// Client security from the environment, for programs that cannot pass options (the C ABI):
    /// `CHAINKV_SECRET_FILE` names the shared secret file, `CHAINKV_TLS_CA_FILE` the CA
    /// certificates to trust (TLS on when set). Unset: none.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> ConnectionSecurity {
        var security = ConnectionSecurity()
        if let file = env["CHAINKV_SECRET_FILE"], !file.isEmpty { security.secret = try SharedSecret(file: file) }
        if let ca = env["CHAINKV_TLS_CA_FILE"], !ca.isEmpty { security.tls = try TLS(trusting: ca) }
        return security
    }

    /// Adds TLS (first), the frame codec and, with a secret, the handshake to a new outbound
    /// channel (from its initializer); the caller adds its own handler after them. The future
    /// succeeds once the server has proven the secret (at once without one) and fails when it
    /// refuses ours, cannot prove its own, or `timeout` (counted from now) runs out first.
    package func prepare(_ channel: Channel, host: String, timeout: TimeAmount) throws -> EventLoopFuture<Void> {
        guard let auth = try installHandlers(on: channel, host: host) else { return channel.eventLoop.makeSucceededVoidFuture() }
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            auth.expire(channel, ChainKVError.timeout("no authentication from \(host) within \(timeout.nanoseconds / 1_000_000) ms"))
        }
        auth.authenticated.futureResult.whenComplete { _ in timer.cancel() }
        return auth.authenticated.futureResult
    }

    private func installHandlers(on channel: Channel, host: String) throws -> ClientAuthHandler? {
        let sync = channel.pipeline.syncOperations
        if let tls {
            // A hostname is sent for SNI and checked against the certificate; an IP address is
            // checked against the certificate's IP entries instead.
            let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
            try sync.addHandler(try NIOSSLClientHandler(context: tls.context, serverHostname: isAddress ? nil : host))
        }
        // No outbound handler may follow FrameBatchEncoder: a successor link writes forwards into
        // it directly (`enqueue`), past anything on the tail side of it.
        try sync.addHandlers([ByteToMessageHandler(FrameDecoder()), FrameBatchEncoder()])
        guard let secret else { return nil }
        let auth = ClientAuthHandler(secret: secret, eventLoop: channel.eventLoop)
        try sync.addHandler(auth)
        return auth
    }
}

/// Lets a channel initializer hand the handshake's future to the code that connects.
package final class HandshakeSlot: @unchecked Sendable {
    package var ready: EventLoopFuture<Void>?
    package init() {}
}

import ChainCoordination
import ChainTransport
import FoundationEssentials
import NIOSSL

/// What a server's configuration says about security, loaded from the files it names: the shared
/// secret every connection must prove (clients, peers, the CLI), TLS on the listener and on the
/// links this server dials, and the ZooKeeper digest credentials its znodes are protected with.
/// Everything optional: a configuration without these fields runs in the clear, as before.
public struct ServerSecurity: Sendable {
    public var secret: SharedSecret?
    /// The listener's TLS context (certificate chain and key).
    public var serverTLS: NIOSSLContext?
    /// Shared secret and TLS (trusting `tlsCAFile`) for the connections this server opens to its
    /// peers: successor link, leader links, snapshot transfer.
    public var outbound: ConnectionSecurity
    public var zookeeperDigest: ZooKeeperDigest?
    /// Warnings found while loading (e.g. a secret file others can read), for the server's log.
    public var warnings: [String] = []

    public static let none = ServerSecurity(secret: nil, serverTLS: nil, outbound: .none, zookeeperDigest: nil)

    /// Loads the files `config` names. Errors name the field, like `ServerConfig.validate()`.
    public static func load(_ config: ServerConfig) throws -> ServerSecurity {
        var security = ServerSecurity.none
        if let path = config.secretFile {
            do {
                security.secret = try SharedSecret(file: path)
            } catch {
                throw ConfigError(field: "secretFile", reason: "\(error)")
            }
            if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
                security.warnings.append("secret file \(path) can be read by others (mode \(String(mode, radix: 8))); chmod 600 it")
            }
        }
        if let path = config.zookeeperDigestFile {
            do {
                security.zookeeperDigest = try ZooKeeperDigest(file: path)
            } catch {
                throw ConfigError(field: "zookeeperDigestFile", reason: "\(error)")
            }
        }
        if let cert = config.tlsCertificateFile, let key = config.tlsPrivateKeyFile, let ca = config.tlsCAFile {
            do {
                var tls = TLSConfiguration.makeServerConfiguration(
                    certificateChain: try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) },
                    privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
                tls.minimumTLSVersion = .tlsv12
                security.serverTLS = try NIOSSLContext(configuration: tls)
            } catch {
                throw ConfigError(field: "tlsCertificateFile", reason: "cannot use \(cert) with key \(key): \(error)")
            }
            do {
                security.outbound.tls = try ConnectionSecurity.TLS(trusting: ca)
            } catch {
                throw ConfigError(field: "tlsCAFile", reason: "\(error)")
            }
        }
        security.outbound.secret = security.secret
        return security
    }
}

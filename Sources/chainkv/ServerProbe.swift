import ChainKV
import ChainWire
import Foundation
import NIOCore
import NIOPosix

/// What a listed server turned out to be when the CLI asked it directly, after a request failed:
/// the failure is then reported in words ("cannot connect to 127.0.0.1:7001: connection refused",
/// "127.0.0.1:9101 did not answer as a chainkv server") instead of the client library's text.
enum ServerProbe: Sendable, Equatable {
    /// It answered a status request.
    case chainkv
    /// No TCP connection: the reason in words.
    case unreachable(String)
    /// It accepted the connection but did not answer the status request as a chainkv server does.
    case notChainKV
    /// TLS or the shared-secret handshake did not complete.
    case handshakeFailed
    /// It refused our credentials.
    case unauthorized

    /// At most this many servers are asked (the list comes from the user).
    static let serversMax = 16

    /// Asks every server (at most `serversMax`) at once; each within about 2 s.
    static func probe(_ servers: [String], security: ConnectionSecurity) async -> [(address: String, probe: ServerProbe)] {
        await withTaskGroup(of: (Int, String, ServerProbe).self) { group in
            for (i, address) in servers.prefix(serversMax).enumerated() {
                group.addTask { (i, address, await probe(address, security: security)) }
            }
            var found: [(Int, String, ServerProbe)] = []
            for await answer in group { found.append(answer) }
            return found.sorted { $0.0 < $1.0 }.map { ($0.1, $0.2) }
        }
    }

    static func probe(_ address: String, security: ConnectionSecurity) async -> ServerProbe {
        guard let parsed = NodeAddress(id: address, parsing: address) else { return .unreachable("not a host:port address") }
        let connection: Connection
        do {
            connection = try await Connection.connect(host: parsed.host, port: parsed.port, group: MultiThreadedEventLoopGroup.singleton,
                                                      timeout: .seconds(1), security: security)
        } catch let error as ChainKVError where error.isUnauthorized {
            return .unauthorized
        } catch {
            return reason(error).map { .unreachable($0) } ?? .handshakeFailed
        }
        defer { connection.close() }
        switch try? await connection.request(.status, timeout: .seconds(1)) {
        case .statusReply?: return .chainkv
        case .error(.unauthorized, _)?: return .unauthorized
        case .error?: return .chainkv  // a chainkv error reply: it speaks the protocol
        default: return .notChainKV
        }
    }

    /// Why a TCP connection could not be made, in words; nil when the error is not about the
    /// connection itself (then TLS or the shared-secret handshake failed).
    static func reason(_ error: Error) -> String? {
        if let e = error as? NIOConnectionError {
            if let first = e.connectionErrors.first { return reason(first.error) ?? "\(first.error)" }
            if e.dnsAError != nil || e.dnsAAAAError != nil { return "cannot resolve host \(e.host)" }
            return "no address found for \(e.host)"
        }
        if let e = error as? IOError { return words(errno: e.errnoCode) }
        if let e = error as? ChannelError, case .connectTimeout = e { return "connection timed out" }
        if error is SocketAddressError { return "cannot resolve the host" }
        return nil
    }

    static func words(errno code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }

    /// One clause naming the server, e.g. "cannot connect to 127.0.0.1:7001: connection refused".
    func sentence(_ address: String) -> String {
        switch self {
        case .chainkv: return "\(address) answers as a chainkv server"
        case .unreachable(let why): return "cannot connect to \(address): \(why)"
        case .notChainKV: return "\(address) did not answer as a chainkv server"
        case .handshakeFailed: return "\(address) did not complete the TLS or shared-secret handshake"
        case .unauthorized: return "\(address) refused our credentials (unauthorized: check --secret-file)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
internal import NIOCore
internal import NIOPosix

/// Whether a failed connect was refused: the host answered that nothing listens on the port
/// (ECONNREFUSED). Unlike a timeout, that is an answer. From a server's address it means its
/// process is gone (servers listen before they register, and stop listening only as they exit),
/// and the client may stop waiting for it. A firewall that rejects with a reset looks the same,
/// which is why the leader still fences a head it believes crashed (README, "Failures").
package func isConnectionRefused(_ error: Error) -> Bool {
    if let io = error as? IOError { return io.errnoCode == ECONNREFUSED }
    if let failure = error as? NIOConnectionError {
        return !failure.connectionErrors.isEmpty && failure.connectionErrors.allSatisfy { isConnectionRefused($0.error) }
    }
    return false
}

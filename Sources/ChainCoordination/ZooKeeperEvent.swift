/// What the handle-level watcher reports: session state changes and one-shot watch firings.
///
/// Only the handle-level (global) watcher is used, so every watch armed with `watch: true` reports here,
/// identified by its path; the consumer dispatches by path.
public enum ZooKeeperEvent: Sendable, Hashable, CustomStringConvertible {
    /// The connection to the server dropped (or is not up yet); the session may still be alive.
    case connecting
    case connected
    /// The server ended the session: its ephemeral znodes and watches are gone and the client is dead.
    case expired
    case authFailed
    case created(path: String)
    case deleted(path: String)
    case changed(path: String)
    case childrenChanged(path: String)

    public var description: String {
        switch self {
        case .connecting: return "connecting"
        case .connected: return "connected"
        case .expired: return "expired"
        case .authFailed: return "authFailed"
        case .created(let path): return "created(\(path))"
        case .deleted(let path): return "deleted(\(path))"
        case .changed(let path): return "changed(\(path))"
        case .childrenChanged(let path): return "childrenChanged(\(path))"
        }
    }
}

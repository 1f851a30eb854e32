@preconcurrency import CZooKeeper

/// A failed ZooKeeper operation, from the C client's return codes plus a few of our own.
public enum ZooKeeperError: Error, Sendable, Hashable, CustomStringConvertible {
    case noNode
    case nodeExists
    case badVersion
    case notEmpty
    case noChildrenForEphemerals
    /// The connection dropped before the answer arrived: the operation may or may not have happened.
    case connectionLoss
    case operationTimeout
    /// The server ended the session; this client can do nothing more and must be replaced.
    case sessionExpired
    case authFailed
    /// The znode's ACL does not let this session do that (ZNOAUTH).
    case notAuthorized
    case badArguments
    /// Data above what a ZooKeeper request may carry (jute.maxbuffer, about 1 MiB); refused before sending,
    /// because the server would otherwise drop the whole connection.
    case dataTooLarge(size: Int)
    /// `waitConnected(timeout:)` ran out of time.
    case timedOut
    /// The client was closed (by `close()`), before or while the operation ran.
    case closed
    case other(code: Int32)

    /// Maps a C return code (`ZNONODE`, `ZBADVERSION`, ...) to an error.
    public init(code: Int32) {
        switch code {
        case ZNONODE.rawValue: self = .noNode
        case ZNODEEXISTS.rawValue: self = .nodeExists
        case ZBADVERSION.rawValue: self = .badVersion
        case ZNOTEMPTY.rawValue: self = .notEmpty
        case ZNOCHILDRENFOREPHEMERALS.rawValue: self = .noChildrenForEphemerals
        case ZCONNECTIONLOSS.rawValue: self = .connectionLoss
        case ZOPERATIONTIMEOUT.rawValue: self = .operationTimeout
        case ZSESSIONEXPIRED.rawValue: self = .sessionExpired
        case ZAUTHFAILED.rawValue: self = .authFailed
        case ZNOAUTH.rawValue: self = .notAuthorized
        case ZBADARGUMENTS.rawValue: self = .badArguments
        case ZCLOSING.rawValue: self = .closed
        default: self = .other(code: code)
        }
    }

    public var description: String {
        switch self {
        case .noNode: return "ZooKeeper: no such znode"
        case .nodeExists: return "ZooKeeper: znode already exists"
        case .badVersion: return "ZooKeeper: znode version does not match (changed by someone else)"
        case .notEmpty: return "ZooKeeper: znode has children"
        case .noChildrenForEphemerals: return "ZooKeeper: ephemeral znodes cannot have children"
        case .connectionLoss: return "ZooKeeper: connection lost (the operation may or may not have been applied)"
        case .operationTimeout: return "ZooKeeper: operation timed out"
        case .sessionExpired: return "ZooKeeper: session expired"
        case .authFailed: return "ZooKeeper: authentication failed"
        case .notAuthorized: return "ZooKeeper: not authorized by the znode's ACL"
        case .badArguments: return "ZooKeeper: bad arguments (invalid path or connect string)"
        case .dataTooLarge(let size): return "ZooKeeper: \(size) bytes of znode data is above the 1 MiB request limit"
        case .timedOut: return "ZooKeeper: timed out waiting for a connection"
        case .closed: return "ZooKeeper: client closed"
        case .other(let code):
            return "ZooKeeper: error \(code) (\(String(cString: zerror(code))))"
        }
    }
}

extension ZooKeeperError {
    /// The connection failed under the operation but the session may live on: worth retrying once connected.
    var isConnectionProblem: Bool {
        switch self {
        case .connectionLoss, .operationTimeout: return true
        default: return false
        }
    }
}

/// Errors of the coordination layer itself (names and znode contents); ZooKeeper failures are `ZooKeeperError`.
public enum CoordinationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A cluster or node id that cannot be used as a znode name.
    case invalidName(String)
    /// Znode data above the decoding limit.
    case dataTooLarge(size: Int, limit: Int)
    /// Znode data that is not the expected JSON.
    case malformedData(String)
    /// Well-formed JSON that breaks a rule (duplicate chain member, port out of range, ...).
    case invalidData(String)
    /// `register(member:)` with another node's id.
    case memberIDMismatch(expected: String, got: String)
    /// ZooKeeper digest credentials that are not "user:password".
    case invalidDigest(String)
    /// A conditional change to this znode lost to other changes every time it was tried.
    case contended(String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "invalid name \(String(reflecting: name)): use 1-128 characters from A-Z a-z 0-9 . _ - (not . or ..)"
        case .dataTooLarge(let size, let limit):
            return "znode data of \(size) bytes is above the \(limit)-byte limit"
        case .malformedData(let reason):
            return "malformed znode data: \(reason)"
        case .invalidData(let reason):
            return "invalid znode data: \(reason)"
        case .memberIDMismatch(let expected, let got):
            return "member id \(String(reflecting: got)) is not this coordinator's node id \(String(reflecting: expected))"
        case .invalidDigest(let reason):
            return "ZooKeeper digest credentials: \(reason)"
        case .contended(let path):
            return "\(path) kept changing: a conditional change to it lost every attempt"
        }
    }
}

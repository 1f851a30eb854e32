public import ChainWire

/// Errors of the client library. Each says whether a write may have been applied.
public enum ChainKVError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No server could be reached, or the connection broke before the request was sent.
    case network(String)
    /// The chain failed or changed while a write was in flight: it may or may not have been
    /// applied. Retrying is safe (the paper's status -2).
    case chainFailure(String)
    /// The request broke a limit or rule (key or value too large, bad key). Nothing was sent.
    case invalidArgument(String)
    /// The server refused the request.
    case server(ErrorCode, String)
    case timeout(String)

    public var description: String {
        switch self {
        case .network(let s): return "network error: \(s)"
        case .chainFailure(let s): return "chain failure (write may or may not have applied; retry): \(s)"
        case .invalidArgument(let s): return "invalid argument: \(s)"
        case .server(let code, let s): return "server error \(code): \(s)"
        case .timeout(let s): return "timed out: \(s)"
        }
    }
}

extension ChainKVError {
    /// The server refused our credentials (or, without a secret, asked for them).
    public var isUnauthorized: Bool {
        if case .server(.unauthorized, _) = self { return true }
        return false
    }
}

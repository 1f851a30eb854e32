/// Why a frame or message could not be decoded. Framing errors close the connection (the byte
/// stream can no longer be trusted); message errors get an error reply on an intact stream.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    case frameTooLarge(Int)
    case frameTooSmall(Int)
    case unsupportedVersion(UInt8)
    case unknownType(UInt8)
    case truncated(String)
    case trailingBytes(Int)
    case keyTooLarge(Int)
    case valueTooLarge(Int)
    case invalidKey(String)
    case invalidField(String)

    public var description: String {
        switch self {
        case .frameTooLarge(let n): return "frame of \(n) bytes exceeds frameSizeMax (\(WireLimits.frameSizeMax))"
        case .frameTooSmall(let n): return "frame of \(n) bytes is shorter than the \(WireLimits.headerSize)-byte header"
        case .unsupportedVersion(let v): return "protocol version \(v) is not supported (this server speaks \(WireLimits.version))"
        case .unknownType(let t): return "unknown message type \(t)"
        case .truncated(let what): return "message truncated in \(what)"
        case .trailingBytes(let n): return "\(n) unexpected bytes after the message"
        case .keyTooLarge(let n): return "key of \(n) bytes exceeds keySizeMax (\(WireLimits.keySizeMax))"
        case .valueTooLarge(let n): return "value of \(n) bytes exceeds valueSizeMax (\(WireLimits.valueSizeMax))"
        case .invalidKey(let why): return "invalid key: \(why)"
        case .invalidField(let why): return "invalid field: \(why)"
        }
    }

    /// The error code a server answers with when a request fails to decode.
    public var errorCode: ErrorCode {
        switch self {
        case .keyTooLarge: return .keyTooLarge
        case .valueTooLarge: return .valueTooLarge
        case .unsupportedVersion: return .unsupportedVersion
        default: return .badRequest
        }
    }
}

/// Error codes in `Message.error`. Stable on the wire: append only.
public enum ErrorCode: UInt16, Sendable, Equatable, CaseIterable {
    /// This server is not the head; ask GetHead and retry there.
    case notHead = 1
    /// The chain changed while the write was in flight; it may or may not have committed. Retry.
    case chainChanged = 2
    /// Too many requests in flight; retry later.
    case overloaded = 3
    case keyTooLarge = 4
    case valueTooLarge = 5
    case badRequest = 6
    /// No chain is configured yet, or this server cannot serve (e.g. lost ZooKeeper).
    case unavailable = 7
    case internalError = 8
    case unsupportedVersion = 9
    /// A peer message came from a node or epoch this server does not accept.
    case refused = 10
    /// The connection did not authenticate (no or wrong shared secret); the server closes it.
    case unauthorized = 11
    /// A connection limit was reached (connections per server, idle time, time to finish a
    /// frame); the text names it. The server closes the connection.
    case limitReached = 12
    /// A retried put was applied earlier (before a restart of the server answering, or before it
    /// got the write in a snapshot), but its old value was too large to keep. Not applied again.
    case oldValueNotKept = 13
}

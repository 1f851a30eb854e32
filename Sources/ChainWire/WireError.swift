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

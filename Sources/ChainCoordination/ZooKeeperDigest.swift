import ChainFiles
import FoundationEssentials

/// ZooKeeper "digest" credentials ("user:password"). A session that adds them may change the
/// cluster's znodes; the znodes carry the ACL `digest:<user>:<base64(sha1("user:password"))>` with
/// all permissions (ZooKeeper computes that id from the session's credentials: the "auth" scheme)
/// plus `world:anyone` with read only (so zkCli can still inspect them).
public struct ZooKeeperDigest: Sendable, Equatable {
    public let user: String
    public let password: String

    /// Longest credentials accepted (a user name and a password are short lines of text).
    public static let sizeMax = 1024

    /// - Parameter credentials: "user:password" (the user may not contain ':').
    public init(credentials: String) throws {
        guard credentials.utf8.count <= Self.sizeMax, let colon = credentials.firstIndex(of: ":") else {
            throw CoordinationError.invalidDigest("must be user:password")
        }
        let user = String(credentials[..<colon])
        let password = String(credentials[credentials.index(after: colon)...])
        guard !user.isEmpty, !password.isEmpty else { throw CoordinationError.invalidDigest("user and password must not be empty") }
        guard !(user + password).contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw CoordinationError.invalidDigest("user and password must be one line")
        }
        self.user = user
        self.password = password
    }

    /// Reads "user:password" from a file (one line; a final newline is ignored).
    public init(file path: String) throws {
        let data: [UInt8]
        switch BoundedFile.contents(of: path, limit: Self.sizeMax + 2) {  // + a final CR LF
        case .contents(let bytes): data = bytes
        case .tooLarge: throw CoordinationError.invalidDigest("\(path) is over \(Self.sizeMax) bytes")
        case .unreadable: throw CoordinationError.invalidDigest("cannot read \(path)")
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.last?.isNewline == true { text.removeLast() }
        try self.init(credentials: text)
    }

    /// What `zoo_add_auth(zh, "digest", ...)` takes.
    public var credentials: String { "\(user):\(password)" }
}

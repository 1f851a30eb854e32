internal import ChainFiles
internal import COpenSSLCrypto
internal import FoundationEssentials

/// The cluster's shared secret and the challenge–response proofs built from it.
///
/// The secret itself never crosses the network. A server that requires it opens every connection
/// with a random nonce; the connecting side answers HMAC-SHA256(secret, "client" ‖ server nonce ‖
/// its own nonce) together with its own nonce, and the server proves itself back with
/// HMAC-SHA256(secret, "server" ‖ client nonce ‖ server nonce). Fresh 256-bit nonces on both sides
/// make a recorded exchange useless for a later connection.
public struct SharedSecret: Sendable {
    /// The secret's bytes.
    private let bytes: [UInt8]

    /// Shortest secret accepted: 16 bytes (128 bits) keeps guessing out of reach; shorter is a mistake.
    public static let sizeMin = 16
    /// Longest secret file read: a secret is a line of text or a few random bytes, never a big file.
    public static let fileSizeMax = 4096

    /// - Parameter bytes: the secret; `sizeMin` to `fileSizeMax` bytes.
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= Self.sizeMin else {
            throw ChainKVError.invalidArgument("shared secret of \(bytes.count) bytes is shorter than \(Self.sizeMin)")
        }
        guard bytes.count <= Self.fileSizeMax else {
            throw ChainKVError.invalidArgument("shared secret of \(bytes.count) bytes is longer than \(Self.fileSizeMax)")
        }
        // A libcrypto that cannot compute the MAC (a broken OpenSSL configuration) shows here, at
        // start, rather than as every handshake refused later.
        guard Self.hmacSHA256(key: bytes, Array("chainkv-auth-v1 check".utf8)) != nil else {
            throw ChainKVError.invalidArgument("the system's libcrypto cannot compute HMAC-SHA256 (check OPENSSL_CONF)")
        }
        self.bytes = bytes
    }

    /// Reads a secret file: its bytes without trailing whitespace (so `echo`-made files and
    /// editors' final newlines give the same secret as the bytes written).
    public init(file path: String) throws {
        var bytes: [UInt8]
        switch BoundedFile.contents(of: path, limit: Self.fileSizeMax) {
        case .contents(let read): bytes = read
        case .tooLarge: throw ChainKVError.invalidArgument("secret file \(path) is over \(Self.fileSizeMax) bytes")
        case .unreadable: throw ChainKVError.invalidArgument("cannot read secret file \(path)")
        }
        while let last = bytes.last, last == 0x0a || last == 0x0d || last == 0x20 || last == 0x09 { bytes.removeLast() }
        do {
            try self.init(bytes: bytes)
        } catch {
            throw ChainKVError.invalidArgument("secret file \(path): shared secret of \(bytes.count) bytes is shorter than \(Self.sizeMin)")
        }
    }

    /// A fresh random nonce (the system's cryptographic generator).
    package static func nonce() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
    }

    /// What the connecting side sends: proof that it holds the secret, bound to both nonces.
    package func clientProof(serverNonce: [UInt8], clientNonce: [UInt8]) -> [UInt8] {
        mac(Array("chainkv-auth-v1 client".utf8) + serverNonce + clientNonce)
    }

    /// What the server sends back: its own proof, with the nonces the other way round.
    package func serverProof(serverNonce: [UInt8], clientNonce: [UInt8]) -> [UInt8] {
        mac(Array("chainkv-auth-v1 server".utf8) + clientNonce + serverNonce)
    }

    /// Compares in constant time (no early exit that would leak how many bytes matched).
    package static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// The proof of `message`; empty if libcrypto failed after `init` checked it, which no 32-byte
    /// proof matches (`same` compares lengths), so the handshake is refused, not the process stopped.
    private func mac(_ message: [UInt8]) -> [UInt8] {
        Self.hmacSHA256(key: bytes, message) ?? []
    }

    /// HMAC-SHA256 (RFC 2104) by the system's libcrypto: 32 bytes, nil if libcrypto failed.
    package static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8]? {
        precondition(key.count <= fileSizeMax, "a secret is at most fileSizeMax bytes")  // fits the Int32 length
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let done = key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                // The secret is never empty (sizeMin); an empty message may come as a nil pointer
                // with length 0, which HMAC reads nothing from.
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, &out, &length)
            }
        }
        guard done != nil, length == 32 else { return nil }
        return Array(out.prefix(32))
    }
}

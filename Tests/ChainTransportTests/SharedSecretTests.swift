@testable import ChainTransport
import XCTest

/// The handshake's HMAC-SHA256 (libcrypto) against RFC 4231's published vectors, and the proofs
/// against values computed independently (Python's `hmac`), so servers and clients of any build
/// agree on them byte for byte.
final class SharedSecretTests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    func testHMACSHA256MatchesRFC4231() {
        let cases: [(key: [UInt8], data: String, mac: String)] = [
            ([UInt8](repeating: 0x0b, count: 20), "Hi There",
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), "what do ya want for nothing?",
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            // Keys longer than SHA-256's 64-byte block are hashed first.
            ([UInt8](repeating: 0xaa, count: 131), "Test Using Larger Than Block-Size Key - Hash Key First",
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ([UInt8](repeating: 0xaa, count: 131),
             "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        for c in cases {
            XCTAssertEqual(SharedSecret.hmacSHA256(key: c.key, Array(c.data.utf8)).map(hex), c.mac, c.data)
        }
        // An empty message (no buffer at all) is hashed too.
        XCTAssertEqual(SharedSecret.hmacSHA256(key: Array(repeating: UInt8(ascii: "k"), count: 16), []).map(hex),
                       "096c046398d3ba3907b1b88cf757fcad92eacbe1e8c11fff5af0c52f0138fb7b")
    }

    func testProofsBindTheSecretBothNoncesAndTheDirection() throws {
        let secret = try SharedSecret(bytes: Array("correct horse battery staple 42".utf8))
        let server = (0..<32).map { UInt8($0) }, client = (32..<64).map { UInt8($0) }
        let clientProof = secret.clientProof(serverNonce: server, clientNonce: client)
        let serverProof = secret.serverProof(serverNonce: server, clientNonce: client)
        XCTAssertEqual(hex(clientProof), "b160341252f320950998c20e4e0dffb15adf7664482fc65409deddac9e20dd10")
        XCTAssertEqual(hex(serverProof), "ac76d2e36fa86cb126251576e7d5fd88a63af0f7e421666301457e53cb28951d")
        let other = try SharedSecret(bytes: Array("correct horse battery staple 43".utf8))
        XCTAssertNotEqual(other.clientProof(serverNonce: server, clientNonce: client), clientProof)
        XCTAssertNotEqual(secret.clientProof(serverNonce: client, clientNonce: server), clientProof)
        XCTAssertTrue(SharedSecret.same(clientProof, secret.clientProof(serverNonce: server, clientNonce: client)))
        XCTAssertFalse(SharedSecret.same(clientProof, serverProof))
    }

    func testSecretSizesOutsideTheBoundsAreRefused() {
        XCTAssertThrowsError(try SharedSecret(bytes: Array(repeating: 1, count: SharedSecret.sizeMin - 1)))
        XCTAssertNoThrow(try SharedSecret(bytes: Array(repeating: 1, count: SharedSecret.sizeMin)))
        XCTAssertNoThrow(try SharedSecret(bytes: Array(repeating: 1, count: SharedSecret.fileSizeMax)))
        XCTAssertThrowsError(try SharedSecret(bytes: Array(repeating: 1, count: SharedSecret.fileSizeMax + 1)))
    }
}

import ChainKV
import ChainWire
import Foundation
import XCTest

/// TLS on client and peer links (swift-nio-ssl) with a self-signed certificate made at test time.
final class TLSTests: XCTestCase {
    /// A self-signed certificate for 127.0.0.1 and localhost, made with openssl; it is its own CA.
    static func selfSigned(in dir: URL) throws -> (cert: String, key: String) {
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let r = try TestEnvironment.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
            "-subj", "/CN=chainkv test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ], timeout: 60)
        guard r.status == 0 else { throw FixtureError("openssl failed: \(r.output)") }
        return (cert, key)
    }

    func testPutsAndGetsOverTLSAndPlaintextIsRefused() throws {
        let dir = try TestEnvironment.temporaryDirectory("tls")
        let (cert, key) = try Self.selfSigned(in: dir)
        let secret = try AuthTests.secretFile(dir, "secret", "secret of the TLS test, 32 bytes!")
        // TLS and the shared secret together, on a chain of two: the successor link, the leader's
        // links and the clients all go through TLS.
        let security = ConnectionSecurity(secret: try SharedSecret(file: secret), tls: try ConnectionSecurity.TLS(trusting: cert))
        let cluster = try ClusterFixture(size: 2, serverArguments: [
            "--tls-certificate-file", cert, "--tls-private-key-file", key, "--tls-ca-file", cert, "--secret-file", secret,
        ], clientSecurity: security)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        for i in 0..<20 { try blockingTest { try await client.put("tls\(i)", Array("value \(i)".utf8)) } }
        for i in 0..<20 { XCTAssertEqual(try blockingTest { try await client.get("tls\(i)") }, Array("value \(i)".utf8)) }
        XCTAssertNil(try blockingTest { try await client.get("missing") })
        // Replicated over the TLS successor link: both servers hold every row.
        for i in cluster.nodes.indices {
            let deadline = Date().addingTimeInterval(10)
            while try cluster.rows(i).count < 20 && Date() < deadline { usleep(100_000) }
            XCTAssertEqual(try cluster.rows(i).count, 20, "server \(i)")
        }

        // A plaintext client gets nowhere: the server expects a TLS handshake, and the bytes of a
        // frame are not one; the connection is closed without a reply.
        let head = try cluster.chainInfo().head!
        let raw = try RawConnection(host: head.host, port: head.port)
        defer { raw.close() }
        raw.send(Frame(requestID: 1, .get(key: "tls0")))
        XCTAssertThrowsError(try raw.readFrame(), "no frame comes back in the clear")
        XCTAssertTrue(raw.waitClosedByPeer(), "the server closes a connection that does not speak TLS")
        var plainOptions = ChainKVClient.Options()
        plainOptions.security = ConnectionSecurity(secret: try SharedSecret(file: secret))
        plainOptions.retryBudget = .seconds(2)
        let plain = try ChainKVClient(servers: cluster.servers, options: plainOptions)
        defer { plain.beginShutdown() }
        XCTAssertThrowsError(try blockingTest { try await plain.get("tls0") })
        // A client that trusts another CA refuses the server's certificate.
        let other = try Self.selfSigned(in: try TestEnvironment.temporaryDirectory("tls-other"))
        var wrongCA = cluster.clientOptions
        wrongCA.security.tls = try ConnectionSecurity.TLS(trusting: other.cert)
        wrongCA.retryBudget = .seconds(2)
        let suspicious = try ChainKVClient(servers: cluster.servers, options: wrongCA)
        defer { suspicious.beginShutdown() }
        XCTAssertThrowsError(try blockingTest { try await suspicious.get("tls0") })

        // The CLI over TLS.
        let cli = TestEnvironment.binDir.appendingPathComponent("chainkv").path
        let r = try TestEnvironment.run(cli, ["get", "--servers", cluster.servers.joined(separator: ","), "--secret-file", secret,
                                              "--tls-ca-file", cert, "tls3"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(r.output.trimmingCharacters(in: .whitespacesAndNewlines), "value 3")
        // The server is still fine.
        XCTAssertEqual(try blockingTest { try await client.get("tls19") }, Array("value 19".utf8))
    }
}

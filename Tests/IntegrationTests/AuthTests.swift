import ChainCore
import ChainKV
import ChainWire
import Foundation
import NIOCore
import NIOPosix
import XCTest

/// A server configured with a shared secret (`secretFile`) takes nothing but the authentication
/// exchange from a connection that has not proven the secret: clients and peers without it, or
/// with a wrong one, are refused, the server keeps serving those with it, and its data is unchanged.
final class AuthTests: XCTestCase {
    var cli: String { TestEnvironment.binDir.appendingPathComponent("chainkv").path }

    /// Writes a secret file (mode 600) and returns its path.
    static func secretFile(_ dir: URL, _ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try (text + "\n").write(to: url, atomically: true, encoding: .utf8)
        chmod(url.path, 0o600)
        return url.path
    }

    func testClientsWithoutTheRightSecretAreRefusedAndDataIsUnchanged() throws {
        let dir = try TestEnvironment.temporaryDirectory("secret")
        let right = try Self.secretFile(dir, "secret", "correct horse battery staple 42")
        let wrong = try Self.secretFile(dir, "wrong", "incorrect horse battery staple 7")
        let security = ConnectionSecurity(secret: try SharedSecret(file: right))
        let cluster = try ClusterFixture(size: 3, serverArguments: ["--secret-file", right], clientSecurity: security)
        defer { cluster.stop() }
        let good = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { good.beginShutdown() }
        try blockingTest { try await good.put("k", Array("v".utf8)) }

        // No secret: refused at once (not after the retry budget), with the reason.
        let t0 = Date()
        let none = try ChainKVClient(servers: cluster.servers)
        defer { none.beginShutdown() }
        XCTAssertThrowsError(try blockingTest { try await none.put("k", Array("evil".utf8)) }) {
            guard case .server(.unauthorized, let text)? = $0 as? ChainKVError else { return XCTFail("\($0)") }
            XCTAssertTrue(text.contains("requires authentication"), text)
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 3, "refusal is not retried")
        // A wrong secret: refused.
        var wrongOptions = ChainKVClient.Options()
        wrongOptions.security = ConnectionSecurity(secret: try SharedSecret(file: wrong))
        let bad = try ChainKVClient(servers: cluster.servers, options: wrongOptions)
        defer { bad.beginShutdown() }
        XCTAssertThrowsError(try blockingTest { try await bad.delete("k") }) {
            guard case .server(.unauthorized, let text)? = $0 as? ChainKVError else { return XCTFail("\($0)") }
            XCTAssertTrue(text.contains("wrong shared secret"), text)
        }
        // The paper API without the secret cannot even start.
        XCTAssertEqual(PaperClient().`init`(servers: cluster.servers, port: 0), PaperClient.networkError)

        // A raw connection: the server speaks first (its challenge), and a request before the
        // answer gets an error with that request's id, then the connection is closed.
        let head = try cluster.chainInfo().head!
        let raw = try RawConnection(host: head.host, port: head.port)
        defer { raw.close() }
        guard case .authChallenge(let nonce) = try raw.readFrame().message else { return XCTFail("no challenge first") }
        XCTAssertEqual(nonce.count, WireLimits.authFieldSize)
        raw.send(Frame(requestID: 77, .put(key: "k", value: Array("raw".utf8), request: nil)))
        let refusal = try raw.readFrame()
        XCTAssertEqual(refusal.requestID, 77)
        guard case .error(.unauthorized, _) = refusal.message else { return XCTFail("\(refusal)") }
        XCTAssertTrue(raw.waitClosedByPeer())
        // A made-up proof is refused as well.
        let guesser = try RawConnection(host: head.host, port: head.port)
        defer { guesser.close() }
        _ = try guesser.readFrame()
        guesser.send(Frame(requestID: 1, .authResponse(proof: [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 1, count: 32))))
        guard case .error(.unauthorized, let why) = try guesser.readFrame().message else { return XCTFail("guessed proof accepted") }
        XCTAssertTrue(why.contains("wrong shared secret"), why)
        XCTAssertTrue(guesser.waitClosedByPeer())

        // The CLI: refused without the secret (exit 3, saying why); works with --secret-file or
        // $CHAINKV_SECRET_FILE.
        let servers = cluster.servers.joined(separator: ",")
        let refused = try TestEnvironment.run(cli, ["get", "--servers", servers, "--timeout", "2", "k"], environment: ["CHAINKV_SECRET_FILE": ""])
        XCTAssertEqual(refused.status, 3, refused.output)
        XCTAssertTrue(refused.output.contains("unauthorized"), refused.output)
        let flag = try TestEnvironment.run(cli, ["get", "--servers", servers, "--secret-file", right, "k"])
        XCTAssertEqual(flag.status, 0, flag.output)
        XCTAssertEqual(flag.output.trimmingCharacters(in: .whitespacesAndNewlines), "v")
        let statusArgs = ["status", "--json", "--servers", servers, "--zookeeper", cluster.zookeeper, "--cluster", cluster.cluster]
        let env = try TestEnvironment.run(cli, statusArgs, environment: ["CHAINKV_SECRET_FILE": right])
        XCTAssertEqual(env.status, 0, env.output)
        XCTAssertTrue(env.output.contains(#""role":"head""#) && env.output.contains(#""role":"tail""#),
                      "status reaches every server with the secret: \(env.output)")
        let blind = try TestEnvironment.run(cli, statusArgs, environment: ["CHAINKV_SECRET_FILE": ""])
        XCTAssertFalse(blind.output.contains(#""role":"head""#), "without the secret no server answers status: \(blind.output)")

        // The C ABI reads the secret from CHAINKV_SECRET_FILE (Python through ctypes).
        let here = TestEnvironment.repo.appendingPathComponent("Tests/IntegrationTests")
        let library = TestEnvironment.binDir.appendingPathComponent("libchainkvc.so").path
        let script = here.appendingPathComponent("python/paper_test.py").path
        let withSecret = try TestEnvironment.run("/usr/bin/python3", [script, library, servers, "single"], environment: ["CHAINKV_SECRET_FILE": right])
        XCTAssertEqual(withSecret.status, 0, withSecret.output)
        XCTAssertTrue(withSecret.output.contains(" 0 failed"), withSecret.output)
        let without = try TestEnvironment.run("/usr/bin/python3", [script, library, servers, "single"], environment: ["CHAINKV_SECRET_FILE": ""])
        XCTAssertNotEqual(without.status, 0, without.output)
        XCTAssertTrue(without.output.contains("FAIL init"), without.output)

        // Nothing the refused clients sent was applied; the right client still works.
        XCTAssertEqual(try blockingTest { try await good.get("k") }, Array("v".utf8))
        try blockingTest { try await good.put("after", [1]) }
        XCTAssertEqual(try blockingTest { try await good.get("after") }, [1])
        try waitRows(cluster, equal: ["after": [1], "k": Array("v".utf8), "py-empty": []])
        XCTAssertTrue(cluster.log(0).contains("refusing an unauthenticated connection") || cluster.log(1).contains("refusing an unauthenticated connection")
                      || cluster.log(2).contains("refusing an unauthenticated connection"))
    }

    /// A peer without the secret cannot replicate into a server: its hello and forwards are refused
    /// and the server's database is unchanged, while the chain (whose peers hold the secret) works.
    func testAPeerWithoutTheSecretCannotReplicate() throws {
        let dir = try TestEnvironment.temporaryDirectory("secret")
        let right = try Self.secretFile(dir, "secret", "shared secret of the peer test 0123")
        let cluster = try ClusterFixture(size: 2, serverArguments: ["--secret-file", right],
                                         clientSecurity: ConnectionSecurity(secret: try SharedSecret(file: right)))
        defer { cluster.stop() }
        let info = try cluster.chainInfo()
        let tail = info.members.last!
        let tailIndex = cluster.nodes.firstIndex { $0.id == tail.id }!
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        try blockingTest { try await client.put("real", [1]) }

        // Pretend to be the head: hello, then a forward, without authenticating.
        let fake = try RawConnection(host: tail.host, port: tail.port)
        defer { fake.close() }
        _ = try fake.readFrame()  // the challenge, unanswered
        fake.send(Frame(requestID: 0, .hello(node: info.members[0].id, epoch: info.epoch)))
        fake.send(Frame(requestID: 0, .forward(epoch: info.epoch, Update(seq: 1_000_000, key: "injected", value: [6, 6, 6]))))
        guard case .error(.unauthorized, _) = try fake.readFrame().message else { return XCTFail("hello was not refused") }
        XCTAssertTrue(fake.waitClosedByPeer())
        // A dialer with the wrong secret (what a rogue peer's links use) is refused too.
        let wrong = ConnectionSecurity(secret: try SharedSecret(bytes: Array("not the secret of this cluster".utf8)))
        XCTAssertThrowsError(try blockingTest {
            try await Connection.connect(host: tail.host, port: tail.port, group: MultiThreadedEventLoopGroup.singleton,
                                         timeout: .seconds(2), security: wrong)
        }) {
            guard case .server(.unauthorized, _)? = $0 as? ChainKVError else { return XCTFail("\($0)") }
        }

        // The chain still replicates (its links authenticate), and nothing was injected.
        try blockingTest { try await client.put("real2", [2]) }
        XCTAssertNil(try blockingTest { try await client.get("injected") })
        try waitRows(cluster, equal: ["real": [1], "real2": [2]])
        XCTAssertEqual(try cluster.rows(tailIndex).map(\.key), ["real", "real2"])
    }

    /// Waits (at most 10 s) until every running server's SQLite file holds exactly `expected`.
    func waitRows(_ cluster: ClusterFixture, equal expected: [String: [UInt8]]) throws {
        let deadline = Date().addingTimeInterval(10)
        var last: [String: [UInt8]] = [:]
        while Date() < deadline {
            var same = true
            for i in cluster.nodes.indices where cluster.isRunning(i) {
                last = Dictionary(uniqueKeysWithValues: try cluster.rows(i).map { ($0.key, $0.value) })
                if last != expected { same = false; break }
            }
            if same { return }
            usleep(100_000)
        }
        XCTFail("rows \(last) != \(expected)")
    }
}

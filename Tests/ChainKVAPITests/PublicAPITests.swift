import ChainKV
import Foundation
import XCTest

// This file imports ChainKV and nothing else of chainkv or NIO (Foundation and XCTest only), as a program that depends on the
// `ChainKV` product alone would (the target depends on ChainKV only, and is compiled with
// MemberImportVisibility, so even members must come from what `import ChainKV` exports).
// `testOnlyChainKVIsImported` keeps it that way. Nothing here needs a server: the calls that reach
// out dial a port where nothing listens and must fail fast.

final class PublicAPITests: XCTestCase {
    /// A loopback port where nothing listens (port 1, tcpmux, is privileged and unused here): a
    /// connect is refused at once.
    let nowhere = "127.0.0.1:1"

    func testOptionsAndSecurityAreNameable() throws {
        var options = ChainKVClient.Options()
        // Timeouts are plain Swift `Duration`s.
        options.requestTimeout = .milliseconds(800)
        options.connectTimeout = .seconds(1)
        options.probeTimeout = .milliseconds(300)
        options.retryBudget = .seconds(2)
        options.refusedGiveUp = .milliseconds(200)
        let durations: [Duration] = [options.requestTimeout, options.connectTimeout, options.probeTimeout,
                                     options.retryBudget, options.refusedGiveUp]
        XCTAssertEqual(durations, [.milliseconds(800), .seconds(1), .milliseconds(300), .seconds(2), .milliseconds(200)])

        let secret: SharedSecret = try SharedSecret(bytes: Array("sixteen bytes at least".utf8))
        XCTAssertEqual(SharedSecret.sizeMin, 16)
        XCTAssertGreaterThan(SharedSecret.fileSizeMax, SharedSecret.sizeMin)
        let security: ConnectionSecurity = ConnectionSecurity(secret: secret, tls: nil)
        options.security = security
        XCTAssertNotNil(options.security.secret)
        XCTAssertNil(options.security.tls)
        XCTAssertNil(ConnectionSecurity.none.secret)
        let fromEnvironment = try ConnectionSecurity.fromEnvironment([:])
        XCTAssertNil(fromEnvironment.secret)
        XCTAssertNil(fromEnvironment.tls)

        // TLS is configured through ChainKV's own type, not a NIOSSL one.
        let tls: ConnectionSecurity.TLS? = try? ConnectionSecurity.TLS(trusting: "/nonexistent/ca.pem")
        XCTAssertNil(tls)
        XCTAssertThrowsError(try ConnectionSecurity.TLS(trusting: "/nonexistent/ca.pem")) { error in
            guard case ChainKVError.invalidArgument(let text)? = error as? ChainKVError else {
                return XCTFail("expected invalidArgument, got \(error)")
            }
            XCTAssertTrue(text.contains("/nonexistent/ca.pem"), text)
        }
        XCTAssertThrowsError(try SharedSecret(bytes: [1, 2, 3])) { error in
            XCTAssertEqual(error as? ChainKVError, .invalidArgument("shared secret of 3 bytes is shorter than 16"))
        }

        let client = try ChainKVClient(servers: [nowhere], port: 7001, options: options)
        client.beginShutdown()
    }

    func testErrorsAndTheirCodesAreNameable() {
        let code: ErrorCode = .unauthorized
        let errors: [ChainKVError] = [
            .network("n"), .chainFailure("c"), .invalidArgument("i"), .server(code, "s"), .timeout("t"),
        ]
        var seen: [String] = []
        for error in errors {
            switch error {  // exhaustive: a new case is a change of the public API
            case .network(let text), .chainFailure(let text), .invalidArgument(let text), .timeout(let text):
                seen.append(text)
            case .server(let code, let text):
                seen.append("\(code.rawValue) \(code.label) \(text)")
            }
            XCTAssertFalse(error.description.isEmpty)
        }
        XCTAssertEqual(seen, ["n", "c", "i", "11 unauthorized s", "t"])
        XCTAssertTrue(errors[3].isUnauthorized)
        XCTAssertFalse(errors[0].isUnauthorized)
        XCTAssertTrue(ErrorCode.notHead.isTransient)
        XCTAssertTrue(ErrorCode.valueTooLarge.isRequestFault)
        XCTAssertEqual(ErrorCode(rawValue: 2), .chainChanged)
        XCTAssertFalse(ErrorCode.allCases.isEmpty)
    }

    func testResultsAreNameable() {
        let head = NodeAddress(id: "n1", host: "10.0.0.1", port: 7001)
        XCTAssertEqual(head.hostPort, "10.0.0.1:7001")
        XCTAssertEqual(NodeAddress(id: "n2", parsing: "db2", defaultPort: 7001)?.port, 7001)
        let info: ChainInfo = ChainInfo(epoch: 3, members: [head, NodeAddress(id: "n2", host: "10.0.0.2", port: 7001)])
        XCTAssertEqual(info.head, head)
        XCTAssertEqual(info.epoch, 3)
        let map: ShardMap = ShardMap(version: 1, chains: [ShardMap.Shard(id: "c1", slots: [0...4095], chain: info)])
        let shard: ShardMap.Shard = map.chains[0]
        XCTAssertEqual(map.version, 1)
        XCTAssertEqual(shard.id, "c1")
        XCTAssertEqual(shard.slots, [0...4095])
        XCTAssertEqual(shard.chain.members.map(\.id), ["n1", "n2"])

        let value: VersionedValue? = VersionedValue([1, 2], version: 9)
        XCTAssertEqual(value?.value, [1, 2])
        XCTAssertEqual(value.version, 9)
        XCTAssertEqual((nil as VersionedValue?).version, 0, "an absent key's version is 0")
        let results: [WriteResult] = [.applied(version: 10, existed: true), .conditionFailed(current: 9)]
        XCTAssertEqual(results.map(\.version), [10, nil])
    }

    /// Every call fails fast with a network error when nothing listens, and names only public
    /// types on the way (results of `shards()` and `chain()`).
    func testCallsAgainstNothingFailFastWithNetworkErrors() async throws {
        var options = ChainKVClient.Options()
        options.retryBudget = .seconds(5)
        options.refusedGiveUp = .milliseconds(100)
        let client = try ChainKVClient(servers: [nowhere], options: options)
        let started = ContinuousClock.now
        do {
            let map: ShardMap = try await client.shards()
            XCTFail("no server, yet a map: \(map)")
        } catch let error as ChainKVError {
            guard case .network = error else { return XCTFail("expected a network error, got \(error)") }
        }
        do {
            let info: ChainInfo = try await client.chain()
            XCTFail("no server, yet a chain: \(info)")
        } catch ChainKVError.network {
        }
        do {
            let value: [UInt8]? = try await client.get("k")
            XCTFail("no server, yet a value: \(String(describing: value))")
        } catch ChainKVError.network {
        }
        do {
            let result: WriteResult = try await client.put("k", [1], ifVersion: 0)
            XCTFail("no server, yet a write: \(result)")
        } catch ChainKVError.network {
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(4), "refused connections end the calls before the retry budget")

        await client.shutdown()
        await client.shutdown()  // harmless
        do {
            _ = try await client.getVersioned("k")
            XCTFail("a shut-down client must not work")
        } catch ChainKVError.network(let text) {
            XCTAssertTrue(text.contains("shut down"), text)
        }
        do {
            try await client.put("k", [1])
            XCTFail("a shut-down client must not work")
        } catch ChainKVError.network {
        }
    }

    func testBadArgumentsAreInvalidArgument() async throws {
        XCTAssertThrowsError(try ChainKVClient(servers: [])) { error in
            XCTAssertEqual(error as? ChainKVError, .invalidArgument("no servers given"))
        }
        XCTAssertThrowsError(try ChainKVClient(servers: ["host:notaport"]))
        let client = try ChainKVClient(servers: [nowhere])
        do {
            _ = try await client.delete("", ifVersion: nil)
            XCTFail("an empty key must be refused")
        } catch ChainKVError.invalidArgument {
        }
        await client.shutdown()
    }

    /// The paper's blocking calls, from a plain thread: -1 against nothing, and `shutdown` 0.
    func testPaperClientAgainstNothing() {
        let paper = PaperClient(security: .none)
        paper.use(ConnectionSecurity())
        XCTAssertEqual(paper.`init`(servers: [nowhere], port: 7001), PaperClient.networkError)
        XCTAssertEqual(paper.get("k").status, PaperClient.networkError)
        XCTAssertEqual(paper.shutdown(), PaperClient.ok)
    }

    /// This file stays honest: of chainkv it imports ChainKV only, and nothing of NIO.
    func testOnlyChainKVIsImported() throws {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let imports = source.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            $0.range(of: #"^(@\w+ |public |package |internal |private |fileprivate )*import\s"#, options: .regularExpression) != nil
        }
        XCTAssertEqual(imports, ["import ChainKV", "import Foundation", "import XCTest"])
    }
}

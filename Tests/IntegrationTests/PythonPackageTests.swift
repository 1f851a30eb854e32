import ChainKV
import Foundation
import XCTest

/// The Python package clients/python (package `chainkv`, over libchainkvc.so) against a real
/// cluster: its own unittest suite, and the README's Python example as written.
final class PythonPackageTests: XCTestCase {
    var library: String { TestEnvironment.binDir.appendingPathComponent("libchainkvc.so").path }
    var package: URL { TestEnvironment.repo.appendingPathComponent("clients/python") }

    /// clients/python/tests with `python3 -m unittest`, the package on PYTHONPATH, the library of
    /// this build in CHAINKV_LIB and the cluster in CHAINKV_SERVERS. Every test must run: none
    /// skipped, none failed.
    func testPackageUnitTests() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let run = try TestEnvironment.run("/usr/bin/python3", ["-m", "unittest", "discover", "-v",
                                                               "-s", package.appendingPathComponent("tests").path,
                                                               "-t", package.path],
                                          environment: ["PYTHONPATH": package.path, "CHAINKV_LIB": library,
                                                        "CHAINKV_SERVERS": cluster.servers.joined(separator: ","),
                                                        "CHAINKV_SECRET_FILE": "", "CHAINKV_TLS_CA_FILE": ""])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("\nOK"), run.output)
        XCTAssertFalse(run.output.contains("skipped"), "no package test may be skipped:\n\(run.output)")
        let ran = run.output.components(separatedBy: "\n").first { $0.hasPrefix("Ran ") } ?? ""
        XCTAssertGreaterThanOrEqual(Int(ran.split(separator: " ").dropFirst().first ?? "") ?? 0, 16, run.output)
    }

    /// The Python examples of the README (section "C and Python") and of clients/python/README.md,
    /// run from the repository root with PYTHONPATH=clients/python as they say; only the server
    /// address is this cluster's.
    func testReadmeExamplesRunAsWritten() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        for (file, section) in [("README.md", "### C and Python"), ("clients/python/README.md", "# chainkv for Python")] {
            let readme = try String(contentsOf: TestEnvironment.repo.appendingPathComponent(file), encoding: .utf8)
            let at = try XCTUnwrap(readme.range(of: section), "\(file) has a section '\(section)'")
            let rest = readme[at.upperBound...]
            let start = try XCTUnwrap(rest.range(of: "```python\n"), "\(file): the section has a Python example")
            let end = try XCTUnwrap(rest[start.upperBound...].range(of: "```"))
            let example = String(rest[start.upperBound..<end.lowerBound])
            XCTAssertTrue(example.contains("127.0.0.1:7001"), example)
            let script = try TestEnvironment.temporaryDirectory("readme").appendingPathComponent("example.py")
            try example.replacingOccurrences(of: "127.0.0.1:7001", with: cluster.address(0)).write(to: script, atomically: true, encoding: .utf8)
            // As written: the package finds libchainkvc.so in the repository's .build by itself,
            // unless the tests run on binaries elsewhere (CHAINKV_BIN_DIR, or scripts/test's
            // .build-test). The package's own tests check that search in a layout of their own.
            let elsewhere = !TestEnvironment.binDirIsTheRepositoryBuild
            let run = try TestEnvironment.run("/usr/bin/python3", [script.path],
                                              environment: ["PYTHONPATH": package.path, "CHAINKV_LIB": elsewhere ? library : ""])
            XCTAssertEqual(run.status, 0, "\(file) example failed:\n\(example)\n\(run.output)")
        }
    }

    /// A cluster with a shared secret: the package takes it from CHAINKV_SECRET_FILE like C does;
    /// without it the servers refuse the client (NetworkError), and an unusable file is an
    /// InvalidArgument.
    func testSharedSecretFromTheEnvironment() throws {
        let dir = try TestEnvironment.temporaryDirectory("py-secret")
        let secret = try AuthTests.secretFile(dir, "secret", "correct horse battery staple 42")
        let cluster = try ClusterFixture(size: 3, serverArguments: ["--secret-file", secret],
                                         clientSecurity: ConnectionSecurity(secret: try SharedSecret(file: secret)))
        defer { cluster.stop() }
        let servers = cluster.servers.map { "\"\($0)\"" }.joined(separator: ",")
        let script = """
            import chainkv, sys
            try:
                kv = chainkv.connect([\(servers)])
            except chainkv.NetworkError:
                print("refused"); sys.exit(0)
            except chainkv.InvalidArgument:
                print("bad secret file"); sys.exit(0)
            assert kv.put("py-secret", "v") is None
            assert kv.get("py-secret") == b"v"
            kv.close()
            print("stored")
            """
        func run(_ secretFile: String) throws -> String {
            let r = try TestEnvironment.run("/usr/bin/python3", ["-c", script],
                                            environment: ["PYTHONPATH": package.path, "CHAINKV_LIB": library, "CHAINKV_SECRET_FILE": secretFile])
            XCTAssertEqual(r.status, 0, r.output)
            return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertEqual(try run(""), "refused")
        XCTAssertEqual(try run(dir.appendingPathComponent("missing").path), "bad secret file")
        XCTAssertEqual(try run(secret), "stored")
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        XCTAssertEqual(try blockingTest { try await client.get("py-secret") }, Array("v".utf8), "the package's write is there")
    }
}

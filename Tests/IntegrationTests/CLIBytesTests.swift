import Foundation
import XCTest

/// The CLI byte for byte: values in and out unchanged, one exit code per kind of failure for
/// every command, errors in words (and as JSON with --json), examples in every help text. Runs the
/// real `chainkv` binary against a real cluster.
final class CLIBytesTests: XCTestCase {
    /// Every byte value, 0xff included (which a UTF-8 decode turns into EF BF BD).
    let binary = Data((0...255).map { UInt8($0) })

    func testBinaryValuesRoundTripExactly() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let servers = ["--servers", cluster.servers.joined(separator: ",")]
        let dir = try TestEnvironment.temporaryDirectory("cli-bytes")
        let file = dir.appendingPathComponent("value.bin")
        try binary.write(to: file)

        var r = try CLIProcess.run(["put"] + servers + ["--file", file.path, "bin"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // stdout is a file here, not a terminal: the exact 256 bytes, no newline added.
        r = try CLIProcess.run(["get"] + servers + ["bin"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, binary)
        // --json: the text is null (not valid UTF-8, so no replacement characters), base64 is exact.
        r = try CLIProcess.run(["get"] + servers + ["--json", "bin"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.out.contains("\u{FFFD}") || r.out.contains("\\ufffd"), r.out)
        XCTAssertTrue(r.json?["value"] is NSNull, r.out)
        XCTAssertEqual((r.json?["valueBase64"] as? String).flatMap { Data(base64Encoded: $0) }, binary)

        // --stdin stores the bytes unchanged; put --json reports the old value's bytes.
        let other = Data([0, 0xff, 0x0a, 0xc3])
        r = try CLIProcess.run(["put"] + servers + ["--stdin", "--json", "bin"], stdin: other)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.json?["created"] as? Bool, false, r.out)
        XCTAssertEqual((r.json?["oldBase64"] as? String).flatMap { Data(base64Encoded: $0) }, binary)
        XCTAssertEqual(try CLIProcess.run(["get"] + servers + ["--raw", "bin"]).stdout, other)

        // Text values: JSON has both fields; on a terminal get keeps printing text and a newline.
        XCTAssertEqual(try CLIProcess.run(["put"] + servers + ["greeting", "héllo"]).status, 0)
        r = try CLIProcess.run(["get"] + servers + ["--json", "greeting"])
        XCTAssertEqual(r.json?["value"] as? String, "héllo", r.out)
        XCTAssertEqual(r.json?["valueBase64"] as? String, Data("héllo".utf8).base64EncodedString())
        XCTAssertEqual(try CLIProcess.run(["get"] + servers + ["greeting"]).stdout, Data("héllo".utf8))
        let terminal = try CLIProcess.runOnTerminal(["get"] + servers + ["greeting"])
        XCTAssertEqual(terminal.status, 0, terminal.output)
        XCTAssertEqual(terminal.output, "héllo\r\n")

        // One value source only: a positional value with --stdin or --file is a usage error, and
        // nothing is written.
        for extra in [["--stdin"], ["--file", file.path]] {
            r = try CLIProcess.run(["put"] + servers + extra + ["greeting", "ignored?"], stdin: Data("x".utf8))
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains("give the value once"), r.stderr)
        }
        XCTAssertEqual(try CLIProcess.run(["get"] + servers + ["greeting"]).stdout, Data("héllo".utf8))
        r = try CLIProcess.run(["put"] + servers + ["--file", dir.appendingPathComponent("missing").path, "k"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("cannot read"), r.stderr)
    }

    func testUsageErrorsExitTwoForEveryCommand() throws {
        let cases: [[String]] = [
            ["frob"], ["get"], ["put", "onlykey"], ["put", "k", "v", "--stdin"], ["delete"], ["die"], ["decommission"],
            ["status", "--expect", "0"], ["get", "--nope", "k"], ["get", "--raw", "--stdin", "k"],
            ["bench", "--clients", "0"], ["bench", "chart"], ["bench", "report"], ["bench", "failover", "--ops", "0"],
        ]
        for args in cases {
            let r = try CLIProcess.run(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("Usage: chainkv") || r.stderr.contains("Error:"), "\(args): \(r.stderr)")
            // With --json the usage error is a JSON object on stdout too.
            let j = try CLIProcess.run(args + ["--json"])
            XCTAssertEqual(j.status, 2, "\(args) --json: \(j.stderr)")
            XCTAssertEqual(j.json?["code"] as? String, "usage", "\(args) --json: \(j.out)")
            XCTAssertNotNil(j.json?["error"] as? String, j.out)
        }
        let both = try CLIProcess.run(["get", "--raw", "--json", "k"])
        XCTAssertEqual(both.status, 2, both.out)
        XCTAssertEqual(both.json?["code"] as? String, "usage", both.out)
        XCTAssertTrue((both.json?["error"] as? String ?? "").contains("--raw and --json"), both.out)
        for args in [["--version"], ["--help"], ["get", "--help"]] {
            XCTAssertEqual(try CLIProcess.run(args).status, 0, "\(args)")
        }
    }

    func testEveryCommandsHelpHasExamplesAndExitCodes() throws {
        for command in [[], ["get"], ["put"], ["delete"], ["status"], ["die"], ["decommission"], ["bench"], ["bench", "run"],
                        ["bench", "chart"], ["bench", "report"], ["bench", "failover"]] {
            let r = try CLIProcess.run(command + ["--help"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.out.contains("Examples:"), "\(command): \(r.out)")
            XCTAssertTrue(r.out.contains("Exit codes"), "\(command): \(r.out)")
            XCTAssertTrue(r.out.contains("chainkv \((command.first ?? "put"))"), "\(command) examples use the command: \(r.out)")
        }
    }

    func testErrorsSayWhatHappenedInWordsAndInJSON() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        // Nothing listens there.
        var r = try CLIProcess.run(["get", "--servers", "127.0.0.1:1", "k"])
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertEqual(r.stderr, "chainkv: cannot connect to 127.0.0.1:1: connection refused\n")
        r = try CLIProcess.run(["get", "--servers", "127.0.0.1:1", "--json", "k"])
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(r.json as NSDictionary?, ["code": "unreachable", "error": "cannot connect to 127.0.0.1:1: connection refused"])
        XCTAssertEqual(r.stderr, "")

        // A port that does not speak chainkv (the metrics HTTP listener): said so, not "chain failure".
        let metrics = "127.0.0.1:\(cluster.metricsPort(0))"
        for command in [["put", "k", "v"], ["get", "k"], ["delete", "k"]] {
            r = try CLIProcess.run([command[0], "--servers", metrics, "--timeout", "2"] + command.dropFirst())
            XCTAssertEqual(r.status, 3, "\(command): \(r.stderr)")
            XCTAssertEqual(r.stderr, "chainkv: \(metrics) did not answer as a chainkv server\n", "\(command)")
        }
        r = try CLIProcess.run(["put", "--servers", metrics, "--timeout", "2", "--json", "k", "v"])
        XCTAssertEqual(r.json?["code"] as? String, "not_chainkv", r.out)

        // Bad arguments keep exit 2, in words and JSON.
        r = try CLIProcess.run(["put", "--servers", cluster.servers[0], "--json", String(repeating: "k", count: 1025), "v"])
        XCTAssertEqual(r.status, 2, r.out)
        XCTAssertEqual(r.json?["code"] as? String, "invalid_argument", r.out)
        // A live server among dead ones: the request succeeds.
        r = try CLIProcess.run(["put", "--servers", "127.0.0.1:1,\(metrics),\(cluster.servers[1])", "k", "v"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }
}

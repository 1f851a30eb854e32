import ChainVersion
import Foundation
import XCTest

/// What an operator's tooling asks of chainkv: `--version` of both executables.
final class OperatorEndpointsTests: XCTestCase {
    func testVersionNamesTheReleaseAndTheCommitOfTheBuild() throws {
        // The commit of the checkout the tests run in (nil without git): the binaries were built from it.
        let head = try? TestEnvironment.run("/usr/bin/git", ["-C", TestEnvironment.repo.path, "rev-parse", "--short=7", "HEAD"], timeout: 10)
        for program in ["chainkv", "chainkv-server"] {
            let r = try TestEnvironment.run(TestEnvironment.binDir.appendingPathComponent(program).path, ["--version"], timeout: 10)
            XCTAssertEqual(r.status, 0, r.output)
            let line = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertEqual(line, ChainVersion.line(program), "the binary and the tests were built from the same tree")
            let commit = try XCTUnwrap(line.wholeMatch(of: /[a-z-]+ \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,40}(-modified)?|unknown)\)/)?.1,
                                       line)
            if let head, head.status == 0, ProcessInfo.processInfo.environment["CHAINKV_BIN_DIR"] == nil {
                XCTAssertEqual(commit.split(separator: "-").first, Substring(head.output.trimmingCharacters(in: .whitespacesAndNewlines)),
                               "built from this checkout's HEAD")
            }
        }
    }
}

import Foundation
import XCTest

/// The C ABI (include/chainkv.h, libchainkvc.so) from a C program and from Python ctypes,
/// against a real cluster.
final class CABITests: XCTestCase {
    var library: String { TestEnvironment.binDir.appendingPathComponent("libchainkvc.so").path }
    var here: URL { TestEnvironment.repo.appendingPathComponent("Tests/IntegrationTests") }

    func testCProgram() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let exe = try TestEnvironment.compileC("paper_test")
        // The last argument is a server to kill through chainkv_die: the tail, so the test ends
        // with the tail gone and the chain repaired around it.
        let tail = cluster.address(2)
        let run = try TestEnvironment.run(exe, [cluster.servers.joined(separator: ","), tail])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("failed") && run.output.contains(" 0 failed"), run.output)
        // chainkv_die(unclean) made the tail exit at once.
        let deadline = Date().addingTimeInterval(10)
        while cluster.isRunning(2) && Date() < deadline { usleep(50_000) }
        XCTAssertFalse(cluster.isRunning(2), "the server exited after die")
    }

    func testPythonCtypesSingleClient() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let run = try TestEnvironment.run("/usr/bin/python3", [here.appendingPathComponent("python/paper_test.py").path,
                                                               library, cluster.servers.joined(separator: ","), "single"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("python single:") && run.output.contains(" 0 failed"), run.output)
    }

    /// The paper's multiple-clients test: two processes, one writes a key 1000 times, the other
    /// reads it and never sees a value older than the last acknowledged write.
    func testPythonTwoProcessesNeverReadStale() throws {
        let cluster = try ClusterFixture(size: 5)
        defer { cluster.stop() }
        let run = try TestEnvironment.run("/usr/bin/python3", [here.appendingPathComponent("python/paper_test.py").path,
                                                               library, cluster.servers.joined(separator: ","), "multi"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("python multi: 1 passed, 0 failed"), run.output)
    }
}

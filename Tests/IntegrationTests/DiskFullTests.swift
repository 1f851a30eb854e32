import ChainKV
import ChainStorage
import Foundation
import XCTest

/// A server whose data folder fills up (a small tmpfs mounted for it; needs root): it leaves its
/// chain, says why in its log, `/readyz` and `chainkv_disk_full`, acknowledges nothing more, and
/// rejoins by state transfer once space returns (README, "Disk faults").
final class DiskFullTests: XCTestCase {
    static let tmpfsMiB = 48
    static let resumeMiB = 8

    func testFullDiskLeavesTheChainAndRejoinsWhenSpaceReturns() throws {
        let mount = try TestEnvironment.temporaryDirectory("tmpfs")
        let mounted = try TestEnvironment.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(Self.tmpfsMiB)m", "tmpfs", mount.path], timeout: 10)
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a tmpfs here (needs root): \(mounted.output)") }
        defer { _ = try? TestEnvironment.run("/usr/bin/umount", ["-l", mount.path], timeout: 10) }

        let cluster = try ClusterFixture(size: 3, argumentsFor: [1: ["--data-dir", mount.path, "--disk-full-resume-mb", "\(Self.resumeMiB)"]])
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        let writer = DiskFaultTests.Writer(client, prefix: "full")
        try waitFor("writes before the disk fills") { writer.count >= 50 }

        // Fill n2's file system to the last block.
        let ballast = mount.appendingPathComponent("ballast").path
        _ = try TestEnvironment.run("/usr/bin/dd", ["if=/dev/zero", "of=\(ballast)", "bs=1M"], timeout: 60)
        try waitFor("n2 to say its disk is full") { cluster.log(1).contains("disk full: leaving every chain") }
        try waitFor("the chain to drop n2") { (try? cluster.chainInfo().members.map(\.id)) == ["n1", "n3"] }
        XCTAssertTrue(cluster.isRunning(1), "a full disk is waited out, not an exit")
        let metrics = try TestEnvironment.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(cluster.metricsPort(1))/metrics"], timeout: 10).output
        XCTAssertTrue(metrics.contains("chainkv_disk_full 1"), metrics)
        let ready = try TestEnvironment.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(cluster.metricsPort(1))/readyz"], timeout: 10).output
        XCTAssertTrue(ready.contains("disk full"), ready)
        let status = try CLIProcess.run(["status", "--servers", cluster.address(1), "--json"], environment: ["CHAINKV_ZK": ""])
        XCTAssertTrue(status.out.contains("disk full"), status.out + status.stderr)
        let before = writer.count
        try waitFor("writes to go on without n2") { writer.count >= before + 50 }

        // Space returns: n2 restarts by itself and rejoins.
        try FileManager.default.removeItem(atPath: ballast)
        try waitFor("n2 to restart") { cluster.log(1).contains("disk space returned") }
        try waitFor("n2 to rejoin", timeout: 60) { (try? cluster.chainInfo().members.map(\.id))?.count == 3 }
        let rejoined = writer.count
        try waitFor("writes through n2 again") { writer.count >= rejoined + 50 }
        let acked = try writer.stop()
        try assertReadBack(client, acked, "after n2's disk filled and emptied")
        // The restart kept what the parent handed down: the fixture still sees n2 running, and
        // still learns when its servers exit (Foundation's Process watches an inherited socket).
        XCTAssertTrue(cluster.isRunning(1), "n2 restarted in place, same pid")
        Foundation.kill(cluster.pid(2), SIGKILL)
        try waitFor("the fixture to see n3 exit", timeout: 10) { !cluster.isRunning(2) }
        cluster.stop()
        XCTAssertFalse(cluster.isRunning(1), "n2's exit after its restart is seen too")
        let store = try Store(path: mount.appendingPathComponent("chainkv.sqlite").path)
        defer { store.close() }
        let rows = Dictionary(try store.allRows(limit: 1_000_000).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let missing = acked.filter { rows[$0.key] != $0.value }
        XCTAssertEqual(missing.count, 0, "n2 lacks \(missing.count) acknowledged writes after it rejoined")
    }
}

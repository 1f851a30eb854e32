import ChainKV
import Foundation
import XCTest

/// Disks that fail under real servers (README, "Disk faults"): the `scripts/diskfault.c` shim,
/// preloaded into one server, fails or delays its database files' writes and fsyncs from the
/// moment a control file says so.
final class DiskFaultTests: XCTestCase {
    /// The environment that preloads the shim into a server, switched by `control`.
    func shim(control: URL) throws -> [String: String] {
        ["LD_PRELOAD": try TestEnvironment.diskFaultLibrary(), "DISKFAULT_PREFIX": "{dataDir}/chainkv",
         "DISKFAULT_CONTROL": control.path]
    }

    func controlFile() throws -> URL {
        try TestEnvironment.temporaryDirectory("fault").appendingPathComponent("control")
    }

    /// Writes keys one at a time until `stop` is set; returns the acknowledged ones.
    final class Writer: @unchecked Sendable {
        private let lock = NSLock()
        private var acked: [String: [UInt8]] = [:]
        private var failures = 0
        private var stopping = false
        private var task: Task<Void, Never>?

        init(_ client: ChainKVClient, prefix: String) {
            task = Task.detached { [self] in
                var i = 0
                while !lock.withLock({ stopping }) {
                    let key = "\(prefix)-\(i)", value = Array("v\(i)".utf8)
                    do {
                        try await client.put(key, value)
                        lock.withLock { acked[key] = value }
                    } catch {
                        lock.withLock { failures += 1 }
                    }
                    i += 1
                }
            }
        }

        var count: Int { lock.withLock { acked.count } }

        func stop() throws -> [String: [UInt8]] {
            lock.withLock { stopping = true }
            let task = self.task
            _ = try blockingTest { await task?.value }
            return lock.withLock { acked }
        }
    }

    /// EIO from the WAL's writes on a middle server: it exits (fail-stop) with the reason in its
    /// log, the leader drops it, writes go on, and every acknowledged write reads back.
    func testEIOOnWriteMakesAMiddleLeaveFailStop() throws {
        let control = try controlFile()
        let cluster = try ClusterFixture(size: 3, environment: [1: try shim(control: control)])
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        let writer = Writer(client, prefix: "eio")
        try waitFor("writes before the fault") { writer.count >= 50 }
        try "eio-write".write(to: control, atomically: true, encoding: .utf8)
        cluster.waitExit(1)
        XCTAssertEqual(cluster.exitStatus(1), 70, "the faulty server must exit: \(cluster.log(1).suffix(2000))")
        let log = cluster.log(1)
        XCTAssertTrue(log.contains("disk fault: leaving the chain fail-stop"), log.suffix(2000).description)
        XCTAssertTrue(log.contains("I/O error"), log.suffix(2000).description)
        try waitFor("the chain to drop n2") { (try? cluster.chainInfo().members.map(\.id)) == ["n1", "n3"] }
        let before = writer.count
        try waitFor("writes after the repair") { writer.count >= before + 50 }
        let acked = try writer.stop()
        try assertReadBack(client, acked, "after n2's disk failed")
    }

    /// EIO from fsync on a chain of one: the write whose fsync failed is never acknowledged;
    /// the server exits instead.
    func testEIOOnFsyncIsNeverAcknowledged() throws {
        let control = try controlFile()
        let cluster = try ClusterFixture(size: 1, environment: [0: try shim(control: control)])
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        let acked = try writePairs(client, prefix: "before", count: 20)
        try "eio-fsync".write(to: control, atomically: true, encoding: .utf8)
        usleep(100_000)  // the shim rereads its control file every 20 ms
        let put = try blockingTest { await succeeds { try await client.put("after", Array("x".utf8)) } }
        XCTAssertFalse(put, "a write whose fsync failed was acknowledged")
        cluster.waitExit(0)
        XCTAssertEqual(cluster.exitStatus(0), 70)
        XCTAssertTrue(cluster.log(0).contains("SQLITE_IOERR") || cluster.log(0).contains("disk I/O error"),
                      cluster.log(0).suffix(2000).description)
        // Back without the fault: what was acknowledged before is there.
        try FileManager.default.removeItem(at: control)
        try cluster.start(0)
        try cluster.waitForChain(members: 1)
        try assertReadBack(client, acked, "after the restart")
    }
}

/// A slow disk: every fsync of one server's files delayed. The chain slows but keeps going, and
/// the slow server shows in its commit-time histogram and in its log.
final class SlowDiskTests: XCTestCase {
    /// Past `ReplicaShell.slowCommit` (100 ms), which the slow server's log reports.
    static let delayMs = 120

    /// Mean group-commit time of server `i` in seconds, from its metrics.
    func meanCommitSeconds(_ cluster: ClusterFixture, _ i: Int) throws -> Double {
        let text = try TestEnvironment.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(cluster.metricsPort(i))/metrics"], timeout: 10).output
        func value(_ name: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        let sum = try XCTUnwrap(value("chainkv_fsync_duration_seconds_sum"), text)
        let count = try XCTUnwrap(value("chainkv_fsync_duration_seconds_count"), text)
        return count > 0 ? sum / count : 0
    }

    func testSlowFsyncSlowsTheChainAndShowsInMetrics() throws {
        let control = try TestEnvironment.temporaryDirectory("fault").appendingPathComponent("control")
        try "delay-fsync \(Self.delayMs)".write(to: control, atomically: true, encoding: .utf8)
        let shim = ["LD_PRELOAD": try TestEnvironment.diskFaultLibrary(), "DISKFAULT_PREFIX": "{dataDir}/chainkv",
                    "DISKFAULT_CONTROL": control.path]
        let cluster = try ClusterFixture(size: 3, environment: [1: shim])
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        let started = Date()
        let acked = try writePairs(client, prefix: "slow", count: 200)
        let elapsed = Date().timeIntervalSince(started)
        try assertReadBack(client, acked, "with n2's disk slow")
        XCTAssertTrue(cluster.isRunning(1), "a slow disk is no failure")
        XCTAssertEqual((try cluster.chainInfo()).members.map(\.id), ["n1", "n2", "n3"], "nobody was dropped")
        let slow = try meanCommitSeconds(cluster, 1), fast = try meanCommitSeconds(cluster, 0)
        XCTAssertGreaterThanOrEqual(slow, Double(Self.delayMs) / 1000, "n2's commits include the delay")
        XCTAssertLessThan(fast, slow / 2, "n1's commits do not")
        // 200 writes, 50 in flight: at least 4 batches through n2's delayed fsync.
        XCTAssertGreaterThanOrEqual(elapsed, 4 * Double(Self.delayMs) / 1000)
        // The operator sees the disk that slows the chain: n2 logs its slow commits (once per 10 s,
        // with a count).
        XCTAssertTrue(cluster.log(1).contains("slow group commit"), "n2's log names its slow commits")
    }
}

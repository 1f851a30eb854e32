import Foundation
import XCTest

/// A real ZooKeeper for the tests: the one named by CHAINKV_ZK (scripts/test starts it), else a
/// standalone server this process starts on a free port and stops when the test process exits.
/// Tests share it and isolate themselves by cluster name (/chainkv/<cluster>/...).
final class ZooKeeperFixture: @unchecked Sendable {
    static let shared = ZooKeeperFixture()

    private let lock = NSLock()
    private var connect: String?
    private var process: Process?

    func connectString() throws -> String {
        try lock.withLock {
            if let connect { return connect }
            if let env = ProcessInfo.processInfo.environment["CHAINKV_ZK"], !env.isEmpty {
                connect = env
                return env
            }
            let started = try startStandalone()
            connect = started
            return started
        }
    }

    private func startStandalone() throws -> String {
        let dir = try TestEnvironment.temporaryDirectory("zk")
        let port = TestEnvironment.freePort()
        let cfg = """
        tickTime=500
        dataDir=\(dir.path)/data
        clientPort=\(port)
        clientPortAddress=127.0.0.1
        admin.enableServer=false
        4lw.commands.whitelist=srvr,ruok,stat
        maxSessionTimeout=60000
        minSessionTimeout=1000
        """
        try cfg.write(to: dir.appendingPathComponent("zoo.cfg"), atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/java")
        p.arguments = ["-Xmx256m", "-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar",
                       "org.apache.zookeeper.server.quorum.QuorumPeerMain", dir.appendingPathComponent("zoo.cfg").path]
        let log = dir.appendingPathComponent("zk.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        process = p
        let pid = p.processIdentifier
        atexit_pids.append(pid)
        atexit { for pid in atexit_pids { kill(pid, SIGKILL) } }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if Self.srvr(port: port).contains("Mode:") { return "127.0.0.1:\(port)" }
            usleep(100_000)
        }
        p.terminate()
        throw FixtureError("ZooKeeper did not answer srvr on 127.0.0.1:\(port) within 60 s; see \(log.path)")
    }

    static func srvr(port: Int) -> String {
        guard let r = try? TestEnvironment.run("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port) && printf srvr >&3 && timeout 2 cat <&3"], timeout: 3) else { return "" }
        return r.output
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

nonisolated(unsafe) private var atexit_pids: [pid_t] = []

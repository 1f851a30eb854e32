import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The ZooKeeper the tests talk to: the ensemble named by `CHAINKV_ZK` if set (a connect string, e.g. from
/// `scripts/zk start`), otherwise a standalone server started here on a free port in a temporary directory.
///
/// The server runs under a small bash guard that kills it when the test process disappears, so a test run
/// killed with SIGKILL leaves no JVM behind.
final class ZooKeeperServer: @unchecked Sendable {
    struct StartError: Error, CustomStringConvertible {
        let description: String
    }

    let connectString: String
    private let guardProcess: Process?
    private let directory: URL?

    private init(connectString: String, guardProcess: Process?, directory: URL?) {
        self.connectString = connectString
        self.guardProcess = guardProcess
        self.directory = directory
    }

    private var javaPIDFile: URL? { directory?.appendingPathComponent("java.pid") }

    static func start() throws -> ZooKeeperServer {
        if let external = ProcessInfo.processInfo.environment["CHAINKV_ZK"], !external.isEmpty {
            return ZooKeeperServer(connectString: external, guardProcess: nil, directory: nil)
        }
        let jar = "/usr/share/java/zookeeper.jar"
        guard FileManager.default.fileExists(atPath: jar) else {
            throw StartError(description: "\(jar) not found: apt-get install zookeeper (or set CHAINKV_ZK to a connect string)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chainkv-zk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        let port = try freePort()
        let config = directory.appendingPathComponent("zoo.cfg")
        // tickTime 1000: the minimum session timeout is 2 ticks, so the expiry tests wait 2 s, not 4 s.
        try """
        tickTime=1000
        dataDir=\(directory.appendingPathComponent("data").path)
        clientPort=\(port)
        clientPortAddress=127.0.0.1
        admin.enableServer=false
        4lw.commands.whitelist=srvr,ruok,stat,mntr
        """.write(to: config, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("zk.log")

        // $1 test pid, $2 config, $3 log, $4 pid file of the JVM. The guard polls its parent and the JVM once a second.
        let script = #"""
        cp=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar
        java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dzookeeper.root.logger=INFO,CONSOLE \
            -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$2" >"$3" 2>&1 </dev/null &
        zk=$!
        echo $zk >"$4"
        trap 'kill $zk 2>/dev/null; wait $zk; exit 0' TERM INT
        while kill -0 "$1" 2>/dev/null && kill -0 $zk 2>/dev/null; do sleep 1; done
        kill $zk 2>/dev/null
        wait $zk
        """#
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script, "zk-test-guard", "\(getpid())", config.path, log.path,
                             directory.appendingPathComponent("java.pid").path]
        try process.run()
        let server = ZooKeeperServer(
            connectString: "127.0.0.1:\(port)", guardProcess: process, directory: directory)

        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if try srvr(port: port).contains("Mode:") { return server }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let tail = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").suffix(20).joined(separator: "\n") ?? ""
        server.stop()
        throw StartError(description: "ZooKeeper on port \(port) did not start within 60 s; log tail:\n\(tail)")
    }

    /// Stops our server (TERM through the guard, then KILL) and removes its directory. No-op for CHAINKV_ZK.
    func stop() {
        guard let process = guardProcess else { return }
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            // The guard's trap did not finish: kill the JVM it started, then the guard.
            if let file = javaPIDFile, let text = try? String(contentsOf: file, encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGKILL)
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// The answer to the `srvr` four-letter word, or "" if the server does not answer (yet).
    static func srvr(port: Int) throws -> String {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/bin/bash")
        probe.arguments = ["-c", #"exec 3<>"/dev/tcp/127.0.0.1/$1" && printf srvr >&3 && timeout 2 cat <&3"#, "probe", "\(port)"]
        let output = Pipe()
        probe.standardOutput = output
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        probe.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw StartError(description: "cannot bind a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

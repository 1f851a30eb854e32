import Foundation
import Glibc

/// One chainkv-server process of the failover benchmark: fixed id, port and data folder, so a
/// victim restarted after a kill comes back as the same member with its own data. Only the
/// process this object started is ever signalled.
final class BenchFailoverServer: @unchecked Sendable {
    let id: String
    let port: Int
    let dataDir: URL
    private let binary: URL
    private let arguments: [String]
    private let lock = NSLock()
    private var process: Process?
    private var paused = false

    /// `config`: the node file whose settings (timeouts, heartbeats, log level) the server uses;
    /// id, port, data folder, ZooKeeper, cluster and expected members are overridden. Metrics are off
    /// (their port would collide with other servers on this machine).
    init(id: String, port: Int, dataDir: URL, binary: URL, config: URL, zookeeper: String, cluster: String, expectedMembers: Int) {
        self.id = id
        self.port = port
        self.dataDir = dataDir
        self.binary = binary
        arguments = ["--config", config.path, "--id", id, "--port", "\(port)", "--data-dir", dataDir.path,
                     "--zookeeper", zookeeper, "--cluster", cluster, "--expected-members", "\(expectedMembers)", "--chains", "1",
                     "--metrics-port", "0"]
    }

    var address: String { "127.0.0.1:\(port)" }

    /// The pid while the process runs. Once it has exited (and Foundation reaped it), the pid is
    /// dropped from BenchFailoverChildren, so a signal never reaches whatever reuses the number.
    var pid: pid_t? {
        lock.withLock {
            guard let p = process else { return nil }
            if p.isRunning { return p.processIdentifier }
            BenchFailoverChildren.remove(p.processIdentifier)
            return nil
        }
    }

    var isRunning: Bool { pid != nil }

    /// Exit status of the last process once it has exited.
    var exitStatus: Int32? {
        lock.withLock { process.flatMap { $0.isRunning ? nil : $0.terminationStatus } }
    }

    /// Starts the server (again), appending its output to server.log in its data folder.
    func start() async throws {
        guard !isRunning else { return }
        let binary = self.binary, arguments = self.arguments, dataDir = self.dataDir
        let result: Result<Process, Error> = await BenchFailoverWait.blocking {
            do {
                try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
                let logURL = dataDir.appendingPathComponent("server.log")
                if !FileManager.default.fileExists(atPath: logURL.path) {
                    _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
                }
                let log = try FileHandle(forWritingTo: logURL)
                log.seekToEndOfFile()
                let p = Process()
                p.executableURL = binary
                p.arguments = arguments
                p.standardInput = FileHandle.nullDevice
                p.standardOutput = log
                p.standardError = log
                try p.run()
                try? log.close()
                BenchFailoverChildren.add(p.processIdentifier)
                try? "\(p.processIdentifier)\n".write(to: dataDir.appendingPathComponent("pid"), atomically: true, encoding: .utf8)
                return .success(p)
            } catch {
                return .failure(error)
            }
        }
        let p = try result.get()
        lock.withLock {
            process = p
            paused = false
        }
    }

    /// Sends `sig` to the running process; false if it is not running.
    @discardableResult
    func signal(_ sig: Int32) -> Bool {
        lock.withLock {
            guard let p = process, p.isRunning else { return false }
            guard Glibc.kill(p.processIdentifier, sig) == 0 else { return false }
            if sig == SIGSTOP { paused = true }
            if sig == SIGCONT { paused = false }
            return true
        }
    }

    /// Waits until the process has exited (and was reaped); false on timeout.
    func waitExit(timeout: Double) async -> Bool {
        await BenchFailoverWait.untilTrue(timeout: timeout, every: 0.01) { !isRunning }
    }

    /// SIGKILL (after SIGCONT if it was paused), then waits for the exit.
    @discardableResult
    func kill(timeout: Double = 10) async -> Bool {
        let wasPaused = lock.withLock { paused }
        if wasPaused { signal(SIGCONT) }
        signal(SIGKILL)
        return await waitExit(timeout: timeout)
    }

    /// The last lines of server.log, for error messages.
    func logTail(_ lines: Int = 5) -> String {
        let text = (try? String(contentsOf: dataDir.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

import Foundation

/// A child process we started and may signal; only our own children are ever signalled.
final class Child: @unchecked Sendable {
    let name: String
    private let make: () -> Process
    private(set) var process: Process?
    /// Set while the nemesis holds the process down (killed or stopped on purpose).
    var heldDown = false
    var stopped = false

    init(name: String, make: @escaping () -> Process) {
        self.name = name
        self.make = make
        ExitCleanup.register(child: self)
    }

    var isRunning: Bool { process?.isRunning ?? false }
    var pid: pid_t { process?.processIdentifier ?? 0 }

    /// Set by `stop()`: a retired child never starts again. The nemesis restarts servers from
    /// delayed tasks, and one that fired after the run stopped the fleet left a server running
    /// after the runner exited (seen after the 30-run acceptance and in CI clones).
    private var retired = false
    private let lock = NSLock()

    func start() throws {
        lock.lock()
        defer { lock.unlock() }
        guard !retired, !isRunning else { return }
        let p = make()
        try p.run()
        process = p
        stopped = false
    }

    func signal(_ sig: Int32) {
        guard let p = process, p.isRunning else { return }
        kill(p.processIdentifier, sig)
        if sig == SIGSTOP { stopped = true }
        if sig == SIGCONT { stopped = false }
        if sig == SIGKILL { p.waitUntilExit() }
    }

    /// SIGCONT (if stopped), then SIGTERM, then SIGKILL after `grace`.
    func stop(grace: TimeInterval = 10) {
        lock.lock()
        retired = true
        let current = process
        lock.unlock()
        guard let p = current, p.isRunning else { return }
        if stopped { kill(p.processIdentifier, SIGCONT); stopped = false }
        p.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }
}

func logFile(_ url: URL) -> FileHandle {
    if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
    let h = try! FileHandle(forWritingTo: url)
    h.seekToEndOfFile()
    return h
}

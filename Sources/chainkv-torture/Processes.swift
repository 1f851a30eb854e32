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
    }

    var isRunning: Bool { process?.isRunning ?? false }
    var pid: pid_t { process?.processIdentifier ?? 0 }

    func start() throws {
        guard !isRunning else { return }
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
        guard let p = process, p.isRunning else { return }
        if stopped { kill(p.processIdentifier, SIGCONT); stopped = false }
        p.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }
}

enum Ports {
    /// A loopback TCP port nothing listens on now.
    static func free() -> Int {
        // Below Linux's ephemeral range (32768–60999): a port the kernel hands out for bind(0) or an
        // outbound connection could be taken by someone else before our server binds it.
        while true {
            let port = Int.random(in: 20000..<32000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            let ok = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
            close(fd)
            if ok { return port }
        }
    }
}

func logFile(_ url: URL) -> FileHandle {
    if !FileManager.default.fileExists(atPath: url.path) { FileManager.default.createFile(atPath: url.path, contents: nil) }
    let h = try! FileHandle(forWritingTo: url)
    h.seekToEndOfFile()
    return h
}

import Foundation
import XCTest

/// The `chainkv` binary run as a user runs it: stdout and stderr kept apart and as bytes (values
/// are bytes), optional standard input, and the exit status.
struct CLIResult {
    var status: Int32
    var stdout: Data
    var stderr: String

    var out: String { String(decoding: stdout, as: UTF8.self) }

    /// stdout parsed as one JSON object (nil when it is not one).
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: stdout)) as? [String: Any]
    }
}

enum CLIProcess {
    static var binary: String { TestEnvironment.binDir.appendingPathComponent("chainkv").path }

    static func run(_ args: [String], stdin: Data? = nil, environment: [String: String] = [:], timeout: TimeInterval = 60) throws -> CLIResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let dir = try TestEnvironment.temporaryDirectory("cli-run")
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        if let stdin {
            let inURL = dir.appendingPathComponent("stdin")
            try stdin.write(to: inURL)
            p.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            p.standardInput = FileHandle.nullDevice
        }
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit() }
        try out.close()
        try err.close()
        return CLIResult(status: p.terminationStatus, stdout: try Data(contentsOf: outURL),
                         stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Runs the CLI with stdout on a terminal (a pseudo-terminal from util-linux `script`); returns
    /// what the terminal received.
    static func runOnTerminal(_ args: [String]) throws -> (status: Int32, output: String) {
        let quoted = ([binary] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        return try TestEnvironment.run("/usr/bin/script", ["-qefc", quoted, "/dev/null"], timeout: 60)
    }
}

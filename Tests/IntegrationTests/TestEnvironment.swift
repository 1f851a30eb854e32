import ChainTestSupport
import Foundation
import XCTest

/// Paths and ports shared by the integration tests.
enum TestEnvironment {
    /// The repository root, found from this file's path.
    static let repo: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Where `swift build` put the executables and libchainkvc.so (override: CHAINKV_BIN_DIR): beside
    /// the test executable, so a release test build (`scripts/test`) runs release servers and a
    /// debug one (`swift test`) debug servers, each built by the same command as the tests.
    static var binDir: URL {
        if let dir = ProcessInfo.processInfo.environment["CHAINKV_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        if let test = Bundle.main.executableURL { return test.deletingLastPathComponent() }
        return repo.appendingPathComponent(".build/debug")
    }

    /// Whether `binDir` is the repository's `.build/release` or `.build/debug`, the folders where the
    /// Python package finds libchainkvc.so by itself (`scripts/test` builds in `.build-test`).
    static var binDirIsTheRepositoryBuild: Bool {
        let dir = binDir.resolvingSymlinksInPath().path
        return ["release", "debug"].contains { repo.appendingPathComponent(".build/\($0)").resolvingSymlinksInPath().path == dir }
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("chainkv-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func freePort() -> Int { LoopbackPorts.free() }

    /// Runs a command to completion and returns its exit status and output (stdout + stderr).
    @discardableResult
    static func run(_ executable: String, _ args: [String], environment: [String: String] = [:], timeout: TimeInterval = 300) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit() }
        try handle.close()
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: out)
        return (p.terminationStatus, text)
    }

    /// The disk-fault shim (scripts/diskfault.c) compiled into a shared library, once per test run.
    static func diskFaultLibrary() throws -> String {
        try diskFaultLibraryPath.get()
    }

    private static let diskFaultLibraryPath = Result<String, Error> {
        let library = try temporaryDirectory("diskfault").appendingPathComponent("libdiskfault.so").path
        let source = repo.appendingPathComponent("scripts/diskfault.c").path
        let cc = try run("/usr/bin/cc", ["-Wall", "-Werror", "-shared", "-fPIC", "-O2", "-o", library, source, "-ldl"])
        guard cc.status == 0 else { throw FixtureError("cc diskfault.c failed: \(cc.output)") }
        return library
    }

    /// Compiles a C program of Tests/IntegrationTests/c against include/chainkv.h and
    /// libchainkvc.so (with -Wall -Werror) and returns the executable's path.
    static func compileC(_ name: String) throws -> String {
        let exe = try temporaryDirectory(name).appendingPathComponent(name).path
        let source = repo.appendingPathComponent("Tests/IntegrationTests/c/\(name).c").path
        let cc = try run("/usr/bin/cc", ["-Wall", "-Werror", "-o", exe, source, "-I", repo.appendingPathComponent("include").path,
                                         "-L", binDir.path, "-lchainkvc", "-Wl,-rpath,\(binDir.path)"])
        guard cc.status == 0 else { throw FixtureError("cc \(name).c failed: \(cc.output)") }
        return exe
    }
}

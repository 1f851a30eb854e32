import Foundation
import XCTest

/// A fresh directory under the system temp dir, removed when the test case's teardown runs.
func makeTemporaryDirectory(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("chainstorage-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock {
        try? FileManager.default.removeItem(at: url)
    }
    return url
}

/// Size of the WAL file of the database at `path`.
func walFileSize(_ path: String) throws -> Int64 {
    let attributes = try FileManager.default.attributesOfItem(atPath: path + "-wal")
    return (attributes[.size] as? NSNumber)?.int64Value ?? 0
}

/// A value shared between test threads and callbacks.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value {
        withLock { $0 }
    }
}

/// Deterministic pseudo-random bytes (SplitMix64), so a failure reproduces.
func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    while bytes.count < count {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        withUnsafeBytes(of: z) { bytes.append(contentsOf: $0.prefix(count - bytes.count)) }
    }
    return bytes
}

/// SQLite's key order: BINARY collation compares UTF-8 bytes.
func utf8Less(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// Runs the sqlite3 CLI on `database` and returns its stdout, or nil if the CLI is not installed.
func sqlite3CLI(_ database: String, _ sql: String) throws -> String? {
    guard let cli = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first(where: {
        FileManager.default.isExecutableFile(atPath: $0)
    }) else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: cli)
    process.arguments = [database, sql]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CLIError(status: process.terminationStatus)
    }
    return String(decoding: data, as: UTF8.self)
}

struct CLIError: Error {
    let status: Int32
}

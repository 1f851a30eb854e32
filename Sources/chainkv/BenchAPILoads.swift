import ChainBench
import ChainKV
import Foundation
import Synchronization

/// What one `bench api` workload did in its measured window.
struct BenchAPIResult {
    /// Operations counted (CAS attempts, or keys scanned).
    var operations: UInt64
    var seconds: Double
    var detail: String
    var cpu: CPUWindow
    var rate: Double { Double(operations) / max(seconds, 1e-9) }
}

/// Counts the clients of a load share.
final class Counters: Sendable {
    let attempts = Atomic<UInt64>(0)
    let wins = Atomic<UInt64>(0)
}

/// The loads of `chainkv bench api`, each a set of closed-loop clients for `duration` seconds.
struct BenchAPILoads {
    let client: ChainKVClient
    let clients: Int
    let duration: Double
    let keySize: Int
    let valueSize: Int
    let pids: [Int]

    /// A key of `keySize` bytes: `prefix` and `i`, padded.
    func key(_ prefix: String, _ i: Int) -> String {
        let base = "\(prefix)\(String(format: "%08d", i))"
        return base.utf8.count >= keySize ? base : base + String(repeating: "k", count: keySize - base.utf8.count)
    }

    var value: [UInt8] { [UInt8](repeating: 0x76, count: valueSize) }

    /// Runs `clients` loops until the window ends, counting what each returns per iteration.
    func measure(_ body: @escaping @Sendable (Int) async throws -> (attempts: UInt64, wins: UInt64)) async throws
        -> (attempts: UInt64, wins: UInt64, seconds: Double, cpu: CPUWindow) {
        let counts = Counters()
        let start = CPUSnapshot.take(pids: pids)
        let began = Date()
        let end = began.addingTimeInterval(duration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<clients {
                group.addTask {
                    while Date() < end {
                        let (a, w) = try await body(c)
                        counts.attempts.add(a, ordering: .relaxed)
                        counts.wins.add(w, ordering: .relaxed)
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = Date().timeIntervalSince(began)
        let total = counts.attempts.load(ordering: .relaxed)
        let cpu = CPUWindow(from: start, to: CPUSnapshot.take(pids: pids), pids: pids, operations: total,
                            ticksPerSecond: ProcessCPU.ticksPerSecond)
        return (total, counts.wins.load(ordering: .relaxed), seconds, cpu)
    }

    /// Compare-and-set: `hot` nil, each client on a key of its own (every attempt wins); else all
    /// clients on `hot` keys, a lost race retried with the version it reports.
    func cas(prefix: String, hot: Int?) async throws -> BenchAPIResult {
        let (client, value) = (self.client, self.value)
        let keys = (0..<(hot ?? clients)).map { key(prefix, $0) }
        let versions = Mutex([String: UInt64]())
        let result = try await measure { c in
            let k = keys[hot == nil ? c : Int.random(in: 0..<keys.count)]
            let known = versions.withLock { $0[k] ?? 0 }
            switch try await client.put(k, value, ifVersion: known) {
            case .applied(let version, _):
                versions.withLock { $0[k] = max($0[k] ?? 0, version) }
                return (1, 1)
            case .conditionFailed(let current):
                versions.withLock { $0[k] = current }
                return (1, 0)
            }
        }
        let failed = result.attempts - result.wins
        let detail = hot == nil ? "\(result.wins) applied of \(result.attempts)"
            : String(format: "%d keys; %.0f successes/s, %.0f %% of attempts failed", keys.count,
                     Double(result.wins) / result.seconds, Double(failed) / Double(max(result.attempts, 1)) * 100)
        return BenchAPIResult(operations: result.attempts, seconds: result.seconds, detail: detail, cpu: result.cpu)
    }

    /// Scans: writes `entries` keys under `prefix` (unmeasured), then every client scans the
    /// whole prefix in pages of `page`, again and again. Operations: keys returned.
    func scan(prefix: String, entries: Int, page: Int) async throws -> BenchAPIResult {
        let (client, value) = (self.client, self.value)
        let keys = (0..<entries).map { key(prefix, $0) }
        let loaded = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<min(64, entries) {
                group.addTask { for i in stride(from: c, to: entries, by: min(64, entries)) { _ = try await client.put(keys[i], value) } }
            }
            try await group.waitForAll()
        }
        benchStderr(String(format: "bench api: wrote %d keys in %.1f s\n", entries, Date().timeIntervalSince(loaded)))
        let pages = Counters()
        let result = try await measure { _ in
            var after: String?
            var seen: UInt64 = 0
            repeat {
                let r = try await client.scan(prefix: prefix, after: after, limit: page)
                seen += UInt64(r.entries.count)
                pages.attempts.add(1, ordering: .relaxed)
                after = r.next
            } while after != nil
            guard seen == UInt64(entries) else { throw BenchError("a scan returned \(seen) keys of \(entries)") }
            return (seen, 1)
        }
        let detail = String(format: "%d full scans of %d keys in pages of %d; %.0f pages/s", result.wins, entries, page,
                            Double(pages.attempts.load(ordering: .relaxed)) / result.seconds)
        return BenchAPIResult(operations: result.attempts, seconds: result.seconds, detail: detail, cpu: result.cpu)
    }
}

import ChainBench
import ChainKV
import Foundation
import Synchronization

/// The watch workload of `chainkv bench api`: how long a committed change takes to reach many
/// watchers of one prefix while writers keep the cluster busy.
extension BenchAPILoads {
    /// Latency samples kept per watcher (the first ones of the window): enough for a p99.
    static let samplesPerWatcher = 20_000

    func watch(prefix: String, watchers: Int, servers: [String]) async throws -> BenchAPIResult {
        // Watchers on their own clients (4), so their polls do not queue behind the writers'.
        let watchClients = try (0..<4).map { _ in try ChainKVClient(servers: servers) }
        defer { for c in watchClients { c.beginShutdown() } }
        let shared = WatchShared(watchers: watchers)
        var tasks: [Task<Void, Never>] = []
        for w in 0..<watchers {
            let stream = try await watchClients[w % watchClients.count].watch(prefix: prefix)
            tasks.append(Task {
                do {
                    for try await change in stream {
                        guard let value = change.value, value.count >= 8, shared.measuring.load(ordering: .relaxed) else { continue }
                        let sent = value.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                        let now = DispatchTime.now().uptimeNanoseconds
                        shared.delivered.add(1, ordering: .relaxed)
                        shared.samples.withLock { all in
                            if all[w].count < Self.samplesPerWatcher { all[w].append(now >= sent ? now - sent : 0) }
                        }
                    }
                } catch {
                    benchStderr("bench api: a watcher stopped: \(error)\n")
                }
            })
        }
        defer { for t in tasks { t.cancel() } }
        shared.measuring.store(true, ordering: .relaxed)
        let (client, valueSize) = (self.client, self.valueSize)
        let keys = (0..<1000).map { key(prefix, $0) }
        let written = try await measure { c in
            var value = withUnsafeBytes(of: DispatchTime.now().uptimeNanoseconds.bigEndian) { Array($0) }
            value += [UInt8](repeating: 0x76, count: max(0, valueSize - 8))
            _ = try await client.put(keys[(c * 7919 + Int.random(in: 0..<1000)) % keys.count], value)
            return (1, 1)
        }
        try await Task.sleep(for: .seconds(1))  // the last writes reach the watchers
        shared.measuring.store(false, ordering: .relaxed)
        var all = shared.samples.withLock { $0.flatMap { $0 } }
        all.sort()
        func ms(_ q: Double) -> String {
            guard !all.isEmpty else { return "–" }
            return String(format: "%.1f", Double(all[min(all.count - 1, Int(Double(all.count) * q))]) / 1e6)
        }
        let deliveries = shared.delivered.load(ordering: .relaxed)
        let detail = String(format: "%d watchers; %.0f deliveries/s (%d writes × watchers: %d); latency from put call p50 %@ ms, p99 %@ ms, max %@ ms",
                            watchers, Double(deliveries) / (written.seconds + 1), written.attempts,
                            Int(written.attempts) * watchers, ms(0.5), ms(0.99), all.isEmpty ? "–" : String(format: "%.1f", Double(all.last!) / 1e6))
        return BenchAPIResult(operations: written.attempts, seconds: written.seconds, detail: detail, cpu: written.cpu)
    }
}

/// What the watchers and the measuring side share.
private final class WatchShared: Sendable {
    let samples: Mutex<[[UInt64]]>
    let delivered = Atomic<UInt64>(0)
    let measuring = Atomic<Bool>(false)

    init(watchers: Int) {
        samples = Mutex([[UInt64]](repeating: [], count: watchers))
    }
}

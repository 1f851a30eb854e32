import ChainTestSupport
import ChainCheck
import ChainKV
import Foundation
import NIOCore

/// Concurrent clients doing random gets, puts and deletes over a few keys (so they collide),
/// recording every operation with its invoke and complete times and outcome.
final class Workload: @unchecked Sendable {
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    private let lock = NSLock()
    private var ops: [HistoryOp] = []
    private var stopFlag = false

    init() { start = clock.now }

    var now: UInt64 {
        let d = clock.now - start
        return UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000)
    }

    func stop() { lock.withLock { stopFlag = true } }
    private var stopped: Bool { lock.withLock { stopFlag } }

    func record(_ op: HistoryOp) { lock.withLock { ops.append(op) } }
    var history: [HistoryOp] { lock.withLock { ops } }

    static func options() -> ChainKVClient.Options {
        var o = ChainKVClient.Options()
        o.requestTimeout = .seconds(1)
        o.connectTimeout = .milliseconds(500)
        o.retryBudget = .seconds(3)
        return o
    }

    func run(clients: Int, keys: Int, servers: [String], seed: UInt64) async {
        await withTaskGroup(of: Void.self) { group in
            for c in 0..<clients {
                group.addTask { await self.client(c, keys: keys, servers: servers, seed: seed &+ UInt64(c) &* 7919) }
            }
        }
    }

    private func client(_ id: Int, keys: Int, servers: [String], seed: UInt64) async {
        guard let kv = try? ChainKVClient(servers: servers, options: Self.options()) else { return }
        defer { kv.shutdown() }
        var rng = SplitMix64(seed: seed)
        var n = 0
        while !stopped {
            n += 1
            let key = "k\(Int.random(in: 0..<keys, using: &rng))"
            let roll = Int.random(in: 0..<100, using: &rng)
            let invoke = now
            if roll < 50 {
                do {
                    let v = try await kv.get(key)  // nil: no such key, a real answer
                    record(HistoryOp(id: 0, client: id, key: key, kind: .get(value: v), invoke: invoke, complete: now))
                } catch {
                    // A failed read had no effect: it is left out of the history.
                }
            } else if roll < 85 {
                let value = Array("c\(id)-\(n)".utf8)
                do {
                    let old = try await kv.put(key, value)
                    record(HistoryOp(id: 0, client: id, key: key, kind: .put(value: value, old: old), invoke: invoke, complete: now))
                } catch ChainKVError.chainFailure {
                    record(HistoryOp(id: 0, client: id, key: key, kind: .putUnknown(value: value), invoke: invoke, complete: nil))
                } catch {
                    // Never sent (no head reachable): certainly not applied.
                }
            } else {
                do {
                    let existed = try await kv.delete(key)
                    record(HistoryOp(id: 0, client: id, key: key, kind: .delete(existed: existed), invoke: invoke, complete: now))
                } catch ChainKVError.chainFailure {
                    record(HistoryOp(id: 0, client: id, key: key, kind: .deleteUnknown, invoke: invoke, complete: nil))
                } catch {
                }
            }
        }
    }
}

/// The checker's operation type (Foundation has an `Operation` too).
typealias HistoryOp = ChainCheck.Operation

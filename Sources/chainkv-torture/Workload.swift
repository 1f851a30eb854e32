import ChainTestSupport
import ChainCheck
import ChainCore
import ChainKV
import Foundation
import NIOCore

/// Concurrent clients doing random gets, puts, deletes, conditional writes (compare-and-set on
/// a version just read) and scans over a few keys (so they collide), recording every operation
/// with its invoke and complete times and outcome, and every scan page (`WorkloadScan.swift`).
final class Workload: @unchecked Sendable {
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    private let lock = NSLock()
    private var ops: [HistoryOp] = []
    private var stopFlag = false
    private var pages: [ScanPage] = []
    let versions = VersionBook()
    /// The keys the clients use: what a scan page that covers one and does not return it saw absent.
    let keys: [String]

    init(keys: Int) {
        start = clock.now
        self.keys = (0..<keys).map { "k\($0)" }
    }

    var now: UInt64 {
        let d = clock.now - start
        return UInt64(d.wholeNanoseconds)
    }

    func stop() { lock.withLock { stopFlag = true } }
    private var stopped: Bool { lock.withLock { stopFlag } }

    func record(_ op: HistoryOp) { lock.withLock { ops.append(op) } }
    /// `number` numbers the pages in the order they are recorded.
    func record(_ page: (Int) -> ScanPage) { lock.withLock { pages.append(page(pages.count)) } }
    var scanPages: [ScanPage] { lock.withLock { pages } }
    /// Every operation, each scan page as one read per key it covers.
    var history: [HistoryOp] {
        lock.withLock { ops } + versions.resolvedFailures + scanPages.flatMap { $0.observations(keys: keys) }
    }

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
        defer { kv.beginShutdown() }
        var rng = SplitMix64(seed: seed)
        var n = 0
        while !stopped {
            n += 1
            let key = "k\(Int.random(in: 0..<keys, using: &rng))"
            let roll = Int.random(in: 0..<100, using: &rng)
            let invoke = now
            if roll < 5 {
                await scan(kv, client: id, keyCount: keys, rng: &rng)
            } else if roll >= 80 {
                await conditional(kv, client: id, key: key, value: Array("c\(id)-\(n)".utf8), delete: roll >= 95)
            } else if roll < 40 {
                do {
                    let v = try await kv.get(key)  // nil: no such key, a real answer
                    record(HistoryOp(id: 0, client: id, key: key, kind: .get(value: v), invoke: invoke, complete: now))
                } catch {
                    // A failed read had no effect: it is left out of the history.
                }
            } else if roll < 70 {
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

extension Workload {
    /// A compare-and-set: read the key's version, then put `value` (or delete) on that version.
    /// The read is recorded like any get; the write as `ConditionalWrite` says.
    func conditional(_ kv: ChainKVClient, client: Int, key: String, value: [UInt8], delete: Bool) async {
        let readAt = now
        let read: VersionedValue?
        do {
            read = try await kv.getVersioned(key)  // nil: no such key (version 0)
        } catch {
            return  // a failed read had no effect
        }
        record(HistoryOp(id: 0, client: client, key: key, kind: .get(value: read?.value), invoke: readAt, complete: now))
        if let read { versions.learn(key: key, version: read.version, value: read.value) }
        let written: [UInt8]? = delete ? nil : value
        let invoke = now
        let result: WriteResult
        do {
            result = delete ? try await kv.delete(key, ifVersion: read.version) : try await kv.put(key, value, ifVersion: read.version)
        } catch ChainKVError.chainFailure {
            let kind = ConditionalWrite(value: written, expected: read?.value, outcome: .unknown).operation!
            return record(HistoryOp(id: 0, client: client, key: key, kind: kind, invoke: invoke, complete: nil))
        } catch {
            return  // never sent (no head reachable): certainly not applied
        }
        let op = HistoryOp(id: 0, client: client, key: key, kind: .get(value: nil), invoke: invoke, complete: now)
        switch result {
        case .applied(let version, _):
            if let written { versions.learn(key: key, version: version, value: written) }
            var applied = op
            applied.kind = ConditionalWrite(value: written, expected: read?.value, outcome: .applied).operation!
            record(applied)
        case .conditionFailed(let current):
            versions.failed(op, current: current, value: written, expected: read?.value)
        }
    }
}

/// The checker's operation type (Foundation has an `Operation` too).
typealias HistoryOp = ChainCheck.Operation

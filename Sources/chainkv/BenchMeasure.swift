import ArgumentParser
import ChainBench
import Foundation
import Glibc
import Histogram
import Synchronization

extension BenchRun {
    /// Writes keys `range` with `clients` connections and `pipeline` writes in flight on each.
    static func preload(target: BenchTarget, keys: BenchKeySpace, values: BenchValuePool, range: Range<Int>, clients: Int,
                        pipeline: Int, timeout: Double, name: String, progress: Bool) async throws {
        let sessions = try await openAll(target: target, keys: keys, count: min(clients, max(1, range.count / 16)))
        let shared = BenchShared(ops: range.count, warmup: 0, duration: timeout)
        let reporter = progress ? Task {
            await reportProgress(shared: shared, total: range.count, prefix: "preload \(name)", measuredOnly: false)
        } : nil
        await withTaskGroup(of: Void.self) { group in
            for session in sessions {
                for _ in 0..<min(pipeline, max(1, range.count / sessions.count)) {
                    group.addTask(executorPreference: session.executor) {
                        while benchNow() < shared.deadline {
                            let i = range.lowerBound + shared.issued.wrappingAdd(1, ordering: .relaxed).oldValue
                            if i >= range.upperBound { break }
                            var lastError: String?
                            for _ in 0..<5 {
                                do {
                                    try await session.load(i, values.value(i))
                                    lastError = nil
                                    break
                                } catch {
                                    lastError = "\(error)"
                                }
                            }
                            if let lastError {
                                shared.failed.add(1, ordering: .relaxed)
                                shared.samples.withLock { if $0.count < 3 { $0.append(lastError) } }
                            } else {
                                shared.done.add(1, ordering: .relaxed)
                            }
                        }
                    }
                }
            }
        }
        reporter?.cancel()
        _ = await reporter?.value
        for s in sessions { await s.close() }
        let elapsed = Double(benchNow() - shared.start) / 1e9
        let done = shared.done.load(ordering: .relaxed)
        if progress {
            benchStderr(String(format: "bench: preloaded %d keys in %.1f s (%.0f writes/s)\n", done, elapsed, Double(done) / max(elapsed, 1e-9)))
        }
        let failed = shared.failed.load(ordering: .relaxed)
        if failed > 0 || done < range.count {
            throw BenchError("preload wrote \(done) of \(range.count) keys (\(failed) failed): \(shared.samples.withLock { $0 }.joined(separator: " | "))")
        }
    }

    static func openAll(target: BenchTarget, keys: BenchKeySpace, count: Int) async throws -> [any BenchSession] {
        try await withThrowingTaskGroup(of: (Int, any BenchSession).self) { group in
            for i in 0..<count {
                group.addTask { (i, try await target.open(keys: keys)) }
            }
            var sessions: [(Int, any BenchSession)] = []
            do {
                for try await s in group { sessions.append(s) }
            } catch {
                for (_, s) in sessions { await s.close() }
                throw BenchError("cannot open \(count) sessions to \(target.kind.rawValue) at \(target.servers): \(error)")
            }
            return sessions.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    static func measure(target: BenchTarget, keys: BenchKeySpace, values: BenchValuePool, point: Point, ops: Int,
                        duration: Double, warmup: Double, seed: UInt64, name: String, progress: Bool,
                        cpuPids: [Int], rate: Double?) async throws -> BenchPoint {
        let sessions = try await openAll(target: target, keys: keys, count: point.clients)
        let collectors = sessions.map { _ in BenchCollector() }
        let startedAt = ISO8601DateFormatter().string(from: Date())
        let shared = BenchShared(ops: ops, warmup: warmup, duration: duration, cpuPids: cpuPids)
        // One line when the load starts (preload done), for scripts that act during it (bench-grow).
        benchStderr("bench: load started: \(name)\n")
        let getFraction = point.mix.getFraction
        let distribution = point.distribution
        let count = keys.count
        // Open loop (--rate): every loop takes an equal share of the rate.
        let loopRate = rate.map { $0 / Double(point.clients * point.pipeline) }
        let reporter = progress ? Task {
            await reportProgress(shared: shared, total: ops, prefix: name, measuredOnly: true)
        } : nil

        await withTaskGroup(of: Void.self) { group in
            for (c, session) in sessions.enumerated() {
                let collector = collectors[c]
                for l in 0..<point.pipeline {
                    let loopSeed = seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(c * 4096 + l)
                    group.addTask(executorPreference: session.executor) {
                        var rng = BenchRNG(seed: loopSeed)
                        var valueIndex = Int(loopSeed % 64)
                        var measuring = false
                        var schedule = loopRate.map { ArrivalSchedule(ratePerSecond: $0, start: shared.start, unit: rng.unit()) }
                        while true {
                            if let due = schedule?.due {
                                // Never past the point's end: a low rate's last gap may be minutes long.
                                let wake = min(due, shared.deadline)
                                let now = benchNow()
                                if wake > now, wake - now > Self.openLoopSleepMinNanoseconds { await session.sleep(nanoseconds: wake - now) }
                                if due > shared.deadline, benchNow() >= shared.deadline { break }
                            }
                            let now = benchNow()
                            let measured: Bool
                            if now < shared.measureStart {
                                measured = false
                            } else {
                                if !measuring {
                                    measuring = true
                                    shared.measuring()
                                }
                                if now >= shared.deadline { break }
                                if shared.issued.wrappingAdd(1, ordering: .relaxed).newValue > shared.ops { break }
                                measured = true
                            }
                            let isGet = getFraction >= 1 || (getFraction > 0 && rng.unit() < getFraction)
                            let index = distribution.pick(&rng, count: count)
                            var failure: String?
                            var found = true
                            // Open loop: latency counts from the due time, so time spent behind schedule is in it.
                            let t0 = schedule.map { min($0.due, benchNow()) } ?? benchNow()
                            schedule?.advance(unit: rng.unit())
                            do {
                                if isGet {
                                    found = try await session.get(index)
                                } else {
                                    valueIndex &+= 1
                                    try await session.put(index, values.value(valueIndex))
                                }
                            } catch {
                                failure = "\(error)"
                            }
                            let t1 = benchNow()
                            if measured {
                                collector.record(get: isGet, micros: (t1 - t0 + 500) / 1000, end: t1, failure: failure, missing: !found)
                                if failure == nil && found {
                                    shared.done.add(1, ordering: .relaxed)
                                } else {
                                    shared.failed.add(1, ordering: .relaxed)
                                }
                            }
                        }
                    }
                }
            }
        }
        // Every loop has finished its last measured operation: the window ends here.
        let cpuEnd = CPUSnapshot.take(pids: cpuPids)
        reporter?.cancel()
        _ = await reporter?.value
        for s in sessions { await s.close() }

        var all = BenchCollector.Stats()
        var samples: [String] = []
        for c in collectors {
            c.stats.withLock { s in
                all.get.add(s.get)
                all.put.add(s.put)
                all.getErrors += s.getErrors
                all.putErrors += s.putErrors
                all.missing += s.missing
                all.lastEnd = max(all.lastEnd, s.lastEnd)
                for m in s.samples where samples.count < 3 && !samples.contains(m) { samples.append(m) }
            }
        }
        let elapsed = all.lastEnd > shared.measureStart ? Double(all.lastEnd - shared.measureStart) / 1e9 : 0
        func stats(_ h: Histogram<UInt64>, errors: UInt64, missing: UInt64) -> BenchOpStats {
            let n = h.totalCount
            return BenchOpStats(count: n, errors: errors, missing: missing,
                           throughput: elapsed > 0 ? Double(n) / elapsed : 0,
                           p50Ms: n > 0 ? Double(h.valueAtPercentile(50)) / 1000 : 0,
                           p99Ms: n > 0 ? Double(h.valueAtPercentile(99)) / 1000 : 0,
                           p999Ms: n > 0 ? Double(h.valueAtPercentile(99.9)) / 1000 : 0,
                           meanMs: n > 0 ? h.mean / 1000 : 0,
                           maxMs: n > 0 ? Double(h.max) / 1000 : 0)
        }
        var operations: [String: BenchOpStats] = [:]
        if point.mix.get > 0 { operations["get"] = stats(all.get, errors: all.getErrors, missing: all.missing) }
        if point.mix.put > 0 { operations["put"] = stats(all.put, errors: all.putErrors, missing: 0) }
        let total = Double(all.get.totalCount + all.put.totalCount)
        let measuredOps = all.get.totalCount + all.put.totalCount + all.getErrors + all.putErrors + all.missing
        let cpu = shared.cpuStart.withLock { $0 }.map {
            CPUWindow(from: $0, to: cpuEnd, pids: cpuPids, operations: measuredOps, ticksPerSecond: ProcessCPU.ticksPerSecond)
        }
        if let cpu, !cpu.unreadable.isEmpty {
            benchStderr("bench: cannot read /proc/<pid>/stat of pid \(cpu.unreadable.map(String.init).joined(separator: ", ")) at the start or end of the point (process gone?): no server CPU figure for it\n")
        }
        var result = BenchPoint(label: "", tag: "", target: target.kind.rawValue, nodes: 0, clients: point.clients,
                                pipeline: point.pipeline, entries: keys.count, keySize: point.sizes.key,
                                valueSize: point.sizes.value, distribution: point.distribution.rawValue,
                                mix: point.mix.description, warmupSeconds: warmup, elapsedSeconds: elapsed,
                                throughput: elapsed > 0 ? total / elapsed : 0, operations: operations,
                                errorSamples: samples, serverRSSKiB: nil, startedAt: startedAt, host: "", cores: 0)
        result.rate = rate
        if let cpu {
            result.serverCpuUsPerOp = cpu.serverMicrosPerOp
            result.clientCpuUsPerOp = cpu.clientMicrosPerOp
            result.clientCpuSeconds = cpu.clientSeconds
            result.machineBusyCores = cpu.machineBusyCores
            if !cpuPids.isEmpty {
                result.serverCpuSeconds = Dictionary(uniqueKeysWithValues: cpu.serverSeconds.map { ("\($0.key)", $0.value) })
            }
        }
        return result
    }

    /// An open loop sleeps only when its next request is due later than this: a shorter sleep costs
    /// more than the wait it would save, and a request sent 50 µs early does not change the rate.
    static let openLoopSleepMinNanoseconds: UInt64 = 50_000

    /// A progress line on stderr: rewritten in place on a terminal, one line every 5 s otherwise.
    static func reportProgress(shared: BenchShared, total: Int, prefix: String, measuredOnly: Bool) async {
        let tty = isatty(2) == 1
        let every: UInt64 = tty ? 1_000_000_000 : 5_000_000_000
        var lastDone = 0
        var lastTime = benchNow()
        var printed = false
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 1_000_000_000)
            if Task.isCancelled { break }
            let now = benchNow()
            if now - lastTime < every { continue }
            let done = shared.done.load(ordering: .relaxed)
            let failed = shared.failed.load(ordering: .relaxed)
            let rate = Double(done - lastDone) / (Double(now - lastTime) / 1e9)
            let phase = measuredOnly && now < shared.measureStart ? " (warming up)" : ""
            let line = "\(prefix): \(done)/\(total) ops, \(Int(rate)) ops/s, \(failed) errors, "
                + String(format: "%.0f s", Double(now - shared.start) / 1e9) + phase
            benchStderr(tty ? "\r\u{1B}[K" + line : line + "\n")
            printed = true
            lastDone = done
            lastTime = now
        }
        if tty && printed { benchStderr("\r\u{1B}[K") }
    }
}

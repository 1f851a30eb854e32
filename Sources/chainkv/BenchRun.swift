import ArgumentParser
import Foundation
import Glibc
import Histogram
import Synchronization

struct BenchRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one workload, or a sweep of them (comma lists run every combination).",
        discussion: """
        Every list option takes a comma-separated list; the run measures each combination in turn,
        preloading the database first (entries ascending, so each preload only adds keys).
        --sweep NAME replaces that list with the design paper's values:
          sizes: 2/16, 4/64, 16/256, 64/1024   clients: 1,2,4,8,16,32   entries: 500,1000,2000,4000
          mix: 0:100, 50:50, 75:25, 90:10, 100:0   distribution: uniform, hotcold   pipeline: 1,4,16,64
        A point stops after --ops measured operations or --duration seconds, whichever comes first.
        """
    )

    @Option(help: "chainkv or zookeeper.") var target: BenchTargetKind = .chainkv
    @Option(help: "chainkv: host:port list (default $CHAINKV_SERVERS or 127.0.0.1:7001); zookeeper: connect string (default $CHAINKV_ZK or 127.0.0.1:2181-2183).")
    var servers: String?
    @Option(help: "Key/value sizes in bytes: k:v list, or \"paper\" for (2,16),(4,64),(16,256),(64,1024).") var sizes = "128:1024"
    @Option(help: "uniform or hotcold (90 % of requests to 10 % of the keys), comma list.") var distribution = "uniform"
    @Option(help: "Closed-loop clients, each with its own connection or session (1-256), comma list.") var clients = "32"
    @Option(help: "Requests in flight per client (each a closed loop on the shared connection), comma list.") var pipeline = "1"
    @Option(help: "Database size: keys preloaded before measuring, comma list.") var entries = "4000"
    @Option(help: "get:put ratio, comma list (0:100, 50:50, 75:25, 90:10, 100:0).") var mix = "50:50"
    @Option(help: "Sweep a dimension over the paper's values: sizes, clients, entries, mix, distribution, pipeline (comma list).")
    var sweep: String?
    @Option(help: "Measured operations per point.") var ops = 50_000
    @Option(help: "Longest measurement per point, in seconds.") var duration: Double = 60
    @Option(help: "Seconds of unmeasured load before each point.") var warmup: Double = 1
    @Option(help: "Preload: auto (load what this run has not loaded yet), always, or skip (the keys are there already: same --seed).")
    var preload = "auto"
    @Option(help: "Connections used by the preload.") var preloadClients = 8
    @Option(help: "Writes in flight per preload connection.") var preloadPipeline = 128
    @Option(help: "Longest preload, in seconds.") var preloadTimeout: Double = 1800
    @Option(help: "After a preload, write the machine's dirty pages to disk (sync) and wait this many seconds before measuring (0: measure at once).")
    var settle: Double = 0
    @Option(help: "Seed of keys, values and request choice: the same seed gives the same keys.") var seed: UInt64 = 1
    @Option(help: "Seconds a request may keep retrying before it counts as an error.") var timeout: Double = 10
    @Option(help: "ZooKeeper: parent znode of the benchmark's znodes.") var zkParent = "/chainkv-bench"
    @Option(help: "Name of this series in tables and charts (default: the target).") var label: String?
    @Option(help: "Free-form tag stored with each result (scripts/bench groups by it).") var tag = ""
    @Option(help: "Comma list of server pids whose VmRSS is recorded after each point.") var rssPid: String?
    @Flag(help: "Print JSON on stdout instead of the table.") var json = false
    @Flag(help: "Print CSV on stdout instead of the table.") var csv = false
    @Option(help: "Also write the results as JSON to this file (rewritten after every point).") var jsonFile: String?
    @Option(help: "Also write the results as CSV to this file (rewritten after every point).") var csvFile: String?
    @Flag(help: "No progress line on stderr.") var quiet = false

    struct Point {
        var sizes: BenchSizes
        var distribution: BenchDistribution
        var clients: Int
        var pipeline: Int
        var entries: Int
        var mix: BenchMix
    }

    mutating func validate() throws {
        _ = try plan()
        guard ops >= 1 else { throw ValidationError("--ops must be at least 1") }
        guard duration > 0, warmup >= 0, timeout > 0 else { throw ValidationError("--duration, --timeout must be positive, --warmup not negative") }
        guard (0...600).contains(settle) else { throw ValidationError("--settle: 0 to 600 seconds") }
        guard ["auto", "always", "skip"].contains(preload) else { throw ValidationError("--preload: auto, always or skip") }
        guard (1...256).contains(preloadClients), (1...1024).contains(preloadPipeline) else {
            throw ValidationError("--preload-clients 1-256, --preload-pipeline 1-1024")
        }
        guard zkParent.hasPrefix("/"), !zkParent.hasSuffix("/") else { throw ValidationError("--zk-parent: an absolute znode path") }
        _ = try pids()
    }

    private func list<T>(_ raw: String, _ name: String, _ parse: (Substring) -> T?) throws -> [T] {
        let items = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw ValidationError("--\(name): empty list") }
        return try items.map { item in
            guard let v = parse(Substring(item)) else { throw ValidationError("--\(name): cannot read \"\(item)\"") }
            return v
        }
    }

    private func pids() throws -> [Int] {
        guard let rssPid else { return [] }
        return try list(rssPid, "rss-pid") { Int($0) }
    }

    /// Every combination to measure, in order.
    func plan() throws -> [Point] {
        let swept = Set((sweep ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        let known: Set<String> = ["sizes", "clients", "entries", "mix", "distribution", "pipeline"]
        if let bad = swept.subtracting(known).first { throw ValidationError("--sweep: unknown dimension \"\(bad)\" (\(known.sorted().joined(separator: ", ")))") }

        // Splitting on ',' would cut "(2,16)": accept the paper's tuple notation by turning "),(" into ";".
        let sizeList: [BenchSizes]
        if swept.contains("sizes") || sizes == "paper" {
            sizeList = BenchSizes.paper
        } else if sizes.contains("(") {
            sizeList = try sizes.split(separator: ")").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ",( ")) }
                .filter { !$0.isEmpty }.map { item in
                    guard let s = BenchSizes(parsing: Substring(item.replacingOccurrences(of: ",", with: ":"))) else {
                        throw ValidationError("--sizes: cannot read \"\(item)\"")
                    }
                    return s
                }
        } else {
            sizeList = try list(sizes, "sizes") { BenchSizes(parsing: $0) }
        }
        let distList = swept.contains("distribution") ? BenchDistribution.allCases : try list(distribution, "distribution") { BenchDistribution(rawValue: String($0)) }
        let clientList = swept.contains("clients") ? [1, 2, 4, 8, 16, 32] : try list(clients, "clients") { Int($0).flatMap { (1...256).contains($0) ? $0 : nil } }
        let pipeList = swept.contains("pipeline") ? [1, 4, 16, 64] : try list(pipeline, "pipeline") { Int($0).flatMap { (1...4096).contains($0) ? $0 : nil } }
        let entryList = (swept.contains("entries") ? [500, 1000, 2000, 4000] : try list(entries, "entries") { Int($0.replacingOccurrences(of: "_", with: "")).flatMap { $0 >= 1 ? $0 : nil } }).sorted()
        let mixList = swept.contains("mix") ? BenchMix.paper : try list(mix, "mix") { BenchMix(parsing: $0) }
        for c in clientList { for p in pipeList where c * p > 4096 {
            throw ValidationError("clients × pipeline = \(c * p): at most 4096 requests in flight (the head's limit)")
        } }
        var points: [Point] = []
        for e in entryList { for s in sizeList { for d in distList { for m in mixList { for c in clientList { for p in pipeList {
            points.append(Point(sizes: s, distribution: d, clients: c, pipeline: p, entries: e, mix: m))
        } } } } } }
        return points
    }

    func run() async throws {
        let points = try plan()
        let servers = self.servers ?? BenchTarget.defaultServers(target)
        let target = BenchTarget(kind: self.target, servers: servers, timeout: timeout, zkParent: zkParent)
        let pids = try pids()
        let label = self.label ?? self.target.rawValue
        let progress = !quiet
        let command = CommandLine.arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        let host = ProcessInfo.processInfo.hostName
        let cores = ProcessInfo.processInfo.activeProcessorCount

        do {
            try await target.prepare()
        } catch {
            throw BenchError("cannot reach \(self.target.rawValue) at \(servers): \(error)")
        }
        let nodes = await target.nodes()
        if nodes == 0 { throw BenchError("cannot reach \(self.target.rawValue) at \(servers)") }

        /// What this run loaded already, per key size: (value size, entries).
        var loaded: [Int: (value: Int, count: Int)] = [:]
        var results: [BenchPoint] = []
        if !json && !csv { print(BenchFormat.tableHeader()) } else if csv { print(BenchFormat.csvHeader) }

        for (n, point) in points.enumerated() {
            let capacity = BenchKeySpace.capacity(keySize: point.sizes.key)
            var entryCount = point.entries
            if entryCount > capacity {
                benchStderr("bench: only \(capacity) distinct \(point.sizes.key)-byte alphanumeric keys exist; using \(capacity) entries instead of \(entryCount)\n")
                entryCount = capacity
            }
            let keys = BenchKeySpace(size: point.sizes.key, count: entryCount, seed: seed)
            let values = BenchValuePool(size: point.sizes.value, seed: seed)
            let name = "[\(n + 1)/\(points.count)] \(label) \(point.clients)x\(point.pipeline) \(point.sizes) \(point.distribution.rawValue) \(point.mix) \(entryCount) entries"

            // Preload what is missing.
            var from = 0
            if preload == "skip" {
                from = entryCount
            } else if preload == "auto", let l = loaded[point.sizes.key], l.value == point.sizes.value {
                from = min(l.count, entryCount)
            }
            if from < entryCount {
                try await Self.preload(target: target, keys: keys, values: values, range: from..<entryCount,
                                       clients: preloadClients, pipeline: preloadPipeline, timeout: preloadTimeout,
                                       name: name, progress: progress)
                let before = loaded[point.sizes.key]
                let count = before?.value == point.sizes.value ? max(before!.count, entryCount) : entryCount
                loaded[point.sizes.key] = (point.sizes.value, count)
                if settle > 0 {
                    // A large preload leaves GBs of dirty pages that the kernel writes back over the
                    // next seconds, on the same 2 cores: reads measured then measure that writeback.
                    let started = benchNow()
                    sync()
                    try await Task.sleep(nanoseconds: UInt64(settle * 1e9))
                    if progress {
                        benchStderr(String(format: "bench: settled %.1f s after the preload (sync, then %.0f s)\n",
                                           Double(benchNow() - started) / 1e9, settle))
                    }
                }
            }

            var result = try await Self.measure(target: target, keys: keys, values: values, point: point,
                                                 ops: ops, duration: duration, warmup: warmup, seed: seed &+ UInt64(n),
                                                 name: name, progress: progress)
            result.label = label
            result.tag = tag
            result.nodes = nodes
            result.host = host
            result.cores = cores
            if !pids.isEmpty {
                var rss: [String: Int] = [:]
                for pid in pids { if let kib = benchResidentKiB(pid: pid) { rss["\(pid)"] = kib } }
                result.serverRSSKiB = rss
            }
            results.append(result)

            if csv {
                BenchFormat.csvRows(result).forEach { print($0) }
            } else if !json {
                BenchFormat.tableRows(result).forEach { print($0) }
            }
            fflush(nil)
            if !result.errorSamples.isEmpty {
                benchStderr("bench: errors, e.g.: \(result.errorSamples.joined(separator: " | "))\n")
            }
            let file = BenchFile(command: command, results: results)
            if let jsonFile { try BenchFormat.encode(file).write(to: URL(fileURLWithPath: jsonFile)) }
            if let csvFile {
                let text = ([BenchFormat.csvHeader] + results.flatMap(BenchFormat.csvRows)).joined(separator: "\n") + "\n"
                try Data(text.utf8).write(to: URL(fileURLWithPath: csvFile))
            }
        }
        if json {
            print(String(decoding: BenchFormat.encode(BenchFile(command: command, results: results)), as: UTF8.self))
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Measuring

/// Counters shared by every loop of one point.
final class BenchShared: Sendable {
    let issued = Atomic<Int>(0)
    let done = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let samples = Mutex<[String]>([])
    let start: UInt64
    let measureStart: UInt64
    let deadline: UInt64
    let ops: Int

    init(ops: Int, warmup: Double, duration: Double) {
        self.ops = ops
        start = benchNow()
        measureStart = start + UInt64(warmup * 1e9)
        deadline = measureStart + UInt64(duration * 1e9)
    }
}

/// One client's histograms; its loops record into them under a lock.
final class BenchCollector: Sendable {
    struct Stats {
        var get = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: BenchCollector.maxMicros, numberOfSignificantValueDigits: .three)
        var put = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: BenchCollector.maxMicros, numberOfSignificantValueDigits: .three)
        var getErrors: UInt64 = 0
        var putErrors: UInt64 = 0
        var missing: UInt64 = 0
        var samples: [String] = []
        var lastEnd: UInt64 = 0
    }

    static let maxMicros: UInt64 = 600_000_000
    let stats = Mutex(Stats())

    func record(get: Bool, micros: UInt64, end: UInt64, failure: String?, missing: Bool) {
        stats.withLock { s in
            if let failure {
                if get { s.getErrors += 1 } else { s.putErrors += 1 }
                if s.samples.count < 3, !s.samples.contains(failure) { s.samples.append(failure) }
            } else if missing {
                s.missing += 1
            } else if get {
                _ = s.get.record(Swift.min(micros, BenchCollector.maxMicros))
            } else {
                _ = s.put.record(Swift.min(micros, BenchCollector.maxMicros))
            }
            if end > s.lastEnd { s.lastEnd = end }
        }
    }
}

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
                    group.addTask {
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
                        duration: Double, warmup: Double, seed: UInt64, name: String, progress: Bool) async throws -> BenchPoint {
        let sessions = try await openAll(target: target, keys: keys, count: point.clients)
        let collectors = sessions.map { _ in BenchCollector() }
        let startedAt = ISO8601DateFormatter().string(from: Date())
        let shared = BenchShared(ops: ops, warmup: warmup, duration: duration)
        let getFraction = point.mix.getFraction
        let distribution = point.distribution
        let count = keys.count
        let reporter = progress ? Task {
            await reportProgress(shared: shared, total: ops, prefix: name, measuredOnly: true)
        } : nil

        await withTaskGroup(of: Void.self) { group in
            for (c, session) in sessions.enumerated() {
                let collector = collectors[c]
                for l in 0..<point.pipeline {
                    let loopSeed = seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(c * 4096 + l)
                    group.addTask {
                        var rng = BenchRNG(seed: loopSeed)
                        var valueIndex = Int(loopSeed % 64)
                        while true {
                            let now = benchNow()
                            let measured: Bool
                            if now < shared.measureStart {
                                measured = false
                            } else {
                                if now >= shared.deadline { break }
                                if shared.issued.wrappingAdd(1, ordering: .relaxed).newValue > shared.ops { break }
                                measured = true
                            }
                            let isGet = getFraction >= 1 || (getFraction > 0 && rng.unit() < getFraction)
                            let index = distribution.pick(&rng, count: count)
                            var failure: String?
                            var found = true
                            let t0 = benchNow()
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
        return BenchPoint(label: "", tag: "", target: target.kind.rawValue, nodes: 0, clients: point.clients,
                          pipeline: point.pipeline, entries: keys.count, keySize: point.sizes.key,
                          valueSize: point.sizes.value, distribution: point.distribution.rawValue,
                          mix: point.mix.description, warmupSeconds: warmup, elapsedSeconds: elapsed,
                          throughput: elapsed > 0 ? total / elapsed : 0, operations: operations,
                          errorSamples: samples, serverRSSKiB: nil, startedAt: startedAt, host: "", cores: 0)
    }

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

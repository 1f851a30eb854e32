import ArgumentParser
import ChainBench
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
        CPU: each point records the servers' CPU time (utime+stime from /proc/<pid>/stat of the
        --server-pids processes, or of the --rss-pid ones when --server-pids is not given) and this
        process's own (getrusage) over exactly its measured window, divided by its measured operations:
        the srv µs/op (all servers summed) and cli µs/op columns. The CSV and JSON also give the
        whole machine's busy cores over the window (/proc/stat, every process).

        Examples:
          chainkv bench run --clients 1,8,32 --mix 50:50 --duration 10
          chainkv bench run --sweep mix --json-file mix.json
          chainkv bench run --server-pids "$(pgrep -d, chainkv-server)" --mix 0:100
          chainkv bench run --rate 2000 --clients 32 --mix 0:100 --duration 30

        Exit codes: 0 done, 2 usage error, 3 runtime error (target unreachable, a file unwritable).
        """
    )

    @Option(help: "chainkv or zookeeper.") var target: BenchTargetKind = .chainkv
    @Option(help: "chainkv: host:port list (default $CHAINKV_SERVERS or 127.0.0.1:7001); zookeeper: connect string (default $CHAINKV_ZK or 127.0.0.1:2181-2183).")
    var servers: String?
    @Option(help: "Key/value sizes in bytes: k:v list, or \"paper\" for (2,16),(4,64),(16,256),(64,1024).") var sizes = "128:1024"
    @Option(help: "uniform or hotcold (90 % of requests to 10 % of the keys), comma list.") var distribution = "uniform"
    @Option(help: "Clients, each with its own connection or session (1-256), comma list: closed loops, or open ones with --rate.") var clients = "32"
    @Option(help: "Requests in flight per client (each a loop on the shared connection, closed unless --rate), comma list.") var pipeline = "1"
    @Option(help: "Open loop: requests a second over all the clients' loops, 1 to 1000000 (Poisson arrivals; latency counts from each request's due time). Without it every loop is closed.")
    var rate: Double?
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
    @Option(help: "Comma list (at most \(PidList.limit)) of server pids whose CPU time (utime+stime) is recorded over each measured window (default: the --rss-pid list).")
    var serverPids: String?
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
        if let rate {
            guard rate >= 1, rate <= Self.rateMax else { throw ValidationError("--rate: 1 to \(Int(Self.rateMax)) requests a second") }
        }
        guard ["auto", "always", "skip"].contains(preload) else { throw ValidationError("--preload: auto, always or skip") }
        guard (1...256).contains(preloadClients), (1...1024).contains(preloadPipeline) else {
            throw ValidationError("--preload-clients 1-256, --preload-pipeline 1-1024")
        }
        guard zkParent.hasPrefix("/"), !zkParent.hasSuffix("/") else { throw ValidationError("--zk-parent: an absolute znode path") }
        _ = try pids()
        for pid in try cpuPids() where ProcessCPU.ticks(pid: pid) == nil {
            throw ValidationError("--\(serverPids != nil ? "server-pids" : "rss-pid"): cannot read /proc/\(pid)/stat: no process \(pid) on this machine (the servers' CPU time is read from it)")
        }
    }

    /// Bound on --rate: well above what one bench process can send on this kind of machine, and
    /// no loop's share can pass `ArrivalSchedule`'s bound; at least 1, so that no loop's share
    /// (of at most 4,096 loops) falls below `ArrivalSchedule.minRatePerSecond`.
    static let rateMax = ArrivalSchedule.maxRatePerSecond
    /// An open loop that completes less than this share of its rate is reported as falling behind.
    static let rateShortfall = 0.95

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
        return try Self.pidList(rssPid, "rss-pid")
    }

    /// The processes whose CPU time each point records: --server-pids, else the --rss-pid list.
    private func cpuPids() throws -> [Int] {
        guard let serverPids else { return try pids() }
        return try Self.pidList(serverPids, "server-pids")
    }

    private static func pidList(_ raw: String, _ name: String) throws -> [Int] {
        do { return try PidList.parse(raw) } catch { throw ValidationError("--\(name): \(error)") }
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
        let cpuPids = try cpuPids()
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
            let space = BenchKeySpace(size: point.sizes.key, count: entryCount, seed: seed)
            // ZooKeeper's sessions share one array of znode paths, made here once.
            let keys = target.kind == .zookeeper ? space.withZnodePaths(parent: zkParent) : space
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
                                                 name: name, progress: progress, cpuPids: cpuPids, rate: rate)
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
            if let rate, result.throughput < Self.rateShortfall * rate {
                benchStderr(String(format: "bench: open loop offered %.0f/s but completed %.0f/s: the target (or this client) could not keep up, and the latencies include the time requests waited to be sent\n", rate, result.throughput))
            }
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

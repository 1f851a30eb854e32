import ArgumentParser
import ChainBench
import ChainKV
import Foundation

/// `chainkv bench api`: the data API beyond get and put, measured against a running cluster:
/// compare-and-set without and with contention, and scans.
struct BenchAPI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Measure compare-and-set (uncontended and contended) and scans against a running cluster.",
        discussion: """
        watch: --watchers watches of one prefix while the clients write keys under it (values
        carry the time the put was called): delivery latency p50/p99/max from the put's call to
        each watcher's receipt, and deliveries/s. cas: each client updates keys of its own with put --if-version, taking the version each
        write returns (every attempt succeeds): CAS/s. cas-contended: every client updates the
        same --hot keys; a failed condition takes the current version and tries again: attempts/s,
        successes/s and the share that failed. scan: --entries keys under one prefix (written
        first, --sizes k:v), then every client scans the whole prefix in pages of --page: keys/s
        and pages/s. With --server-pids, the servers' CPU per operation (utime+stime from /proc).

        Examples:
          chainkv bench api --workload cas,cas-contended,scan --server-pids "$(pgrep -d, chainkv-server)"
          chainkv bench api --workload scan --entries 100000 --page 1000 --clients 4
          chainkv bench api --workload watch --watchers 100 --clients 32

        Exit codes: 0 done, 2 usage error, 3 runtime error (cluster unreachable, a load failed).
        """)
    @Option(help: "host:port list (default $CHAINKV_SERVERS or 127.0.0.1:7001).") var servers: String?
    @Option(help: "cas, cas-contended, scan, watch (comma list).") var workload = "cas,cas-contended,scan,watch"
    @Option(help: "Closed-loop clients (1-256).") var clients = 32
    @Option(help: "Seconds measured per workload (1-600).") var duration: Double = 10
    @Option(help: "cas-contended: keys all clients update (1-1000).") var hot = 1
    @Option(help: "scan: keys under the prefix (1-10000000).") var entries = 100_000
    @Option(help: "scan: entries per page (1-10000).") var page = 1000
    @Option(help: "Key and value sizes in bytes, k:v.") var sizes = "32:128"
    @Option(help: "watch: watchers of the prefix (1-1000).") var watchers = 100
    @Option(help: "Comma list of server pids whose CPU time is measured over each workload.") var serverPids: String?

    func validate() throws {
        guard (1...1000).contains(watchers) else { throw ValidationError("--watchers 1-1000") }
        guard (1...256).contains(clients), (1...600).contains(duration), (1...1000).contains(hot),
              (1...10_000_000).contains(entries), (1...ChainKVClient.scanLimitMax).contains(page) else {
            throw ValidationError("--clients 1-256, --duration 1-600, --hot 1-1000, --entries 1-10000000, --page 1-10000")
        }
        guard sizesParsed != nil else { throw ValidationError("--sizes: k:v with 16 <= k <= 1024 and 8 <= v <= 1048576") }
        for w in workloadList where !["cas", "cas-contended", "scan", "watch"].contains(w) {
            throw ValidationError("--workload: cas, cas-contended, scan or watch, not \(w)")
        }
    }

    var workloadList: [String] { workload.split(separator: ",").map { String($0) } }
    var sizesParsed: (key: Int, value: Int)? {
        let parts = sizes.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2, (16...1024).contains(parts[0]), (8...(1 << 20)).contains(parts[1]) else { return nil }
        return (parts[0], parts[1])
    }

    func run() async throws {
        let pids = try serverPids.map { try PidList.parse($0) } ?? []
        let list = (servers ?? ProcessInfo.processInfo.environment["CHAINKV_SERVERS"] ?? "127.0.0.1:7001")
            .split(separator: ",").map { String($0) }
        let client = try ChainKVClient(servers: list)
        let run = "b\(UInt32.random(in: 0...UInt32.max))"
        print("| workload | clients | ops/s | detail | server CPU µs/op |")
        print("|---|---|---|---|---|")
        do {
            for w in workloadList {
                let (key, value) = sizesParsed!
                let load = BenchAPILoads(client: client, clients: clients, duration: duration, keySize: key, valueSize: value, pids: pids)
                let result: BenchAPIResult
                switch w {
                case "cas": result = try await load.cas(prefix: "\(run)/cas/", hot: nil)
                case "cas-contended": result = try await load.cas(prefix: "\(run)/hot/", hot: hot)
                case "watch": result = try await load.watch(prefix: "\(run)/watch/", watchers: watchers, servers: list)
                default: result = try await load.scan(prefix: "\(run)/scan/", entries: entries, page: page)
                }
                let cpu = result.cpu.serverMicrosPerOp.map { String(format: "%.0f", $0) } ?? "–"
                print("| \(w) | \(clients) | \(String(format: "%.0f", result.rate)) | \(result.detail) | \(cpu) |")
            }
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }
}

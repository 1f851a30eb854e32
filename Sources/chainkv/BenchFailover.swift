import ArgumentParser
import ChainCore
import ChainKV
import Foundation
import Glibc

/// `chainkv bench failover`: kills each role of a chain under load, restarts it, and reports how
/// long writes and reads were unavailable; then the same writer against ZooKeeper with its leader
/// killed. scripts/bench-failover runs it with an ensemble of its own.
struct BenchFailover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Kill chain roles (and the ZooKeeper leader) under load; report write and read unavailability.",
        discussion: """
        For each chain size, chainkv-server processes n1...nN run on 127.0.0.1,
        ports PORT+1..., with the settings of --node-config (id, port, data
        folder, ZooKeeper, cluster and expected members overridden), under one
        closed-loop writer and one closed-loop reader. Each role is killed
        --kills times (head-paused: --paused-kills), verified from ZooKeeper and
        the servers' status right before the kill. Once the load recovers the
        victim restarts with the same id and data; the next kill waits until
        the chain is whole again. When a role does not exist in the running
        chain, a fresh cluster is started in an order that gives it. Then the
        ZooKeeper leader of the ensemble under --zk-base is killed
        --zookeeper-kills times under the same writer (setData) and restarted
        with scripts/zk each time.

        Unavailability: the longest time between two successive successes of a
        loop, from the last one before the kill until the cluster is whole.

        Results: <out>/failover.json (every kill), <out>/summary.md, servers'
        logs in <out>/run/chainkv. Usually run through scripts/bench-failover,
        which builds and starts the ensemble.

        Examples:
          chainkv bench failover --kills 2 --servers 3 --zk-base .run \\
            --zookeeper 127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183
          scripts/bench-failover      # builds, starts the ensemble, runs this

        Exit codes: 0 every kill measured, 1 a kill was not measured cleanly (see summary.md),
        2 usage error, 3 runtime error (no chainkv-server binary, port in use).
        """
    )

    @Option(help: "Kills per role and chain size.") var kills = 10
    @Option(help: "head-paused (SIGSTOP) repetitions per chain size.") var pausedKills = 3
    @Option(help: "ZooKeeper leader kills (default: --kills; 0: none).") var zookeeperKills: Int?
    @Option(help: "Chain sizes, comma list (3-9).") var servers = "3,5"
    @Option(help: "Roles, comma list of: head, middle, tail, leader, leader+head, head-paused.")
    var roles = BenchFailoverRole.runOrder.map(\.rawValue).joined(separator: ",")
    @Option(help: "ZooKeeper connect string for the chains (default: $CHAINKV_ZK, else that of --zk-base, else 127.0.0.1:2181-2183).")
    var zookeeper: String?
    @Option(help: "The folder scripts/zk started the ensemble in (its --base); needed for the ZooKeeper leader kills.")
    var zkBase: String?
    @Option(help: "scripts/zk, which restarts a killed ZooKeeper server.") var zkScript = "scripts/zk"
    @Option(help: "Folder of the node configuration files n1.json, n2.json, ... (n1.json for any missing).") var nodeConfig = "conf/nodes"
    @Option(help: "The chainkv-server executable (default: next to this program).") var serverBin: String?
    @Option(help: "The servers listen on PORT+1 ... PORT+N.") var portBase = 7200
    @Option(help: "Results folder (default .run/bench-failover-<date>).") var out: String?
    @Option(help: "Keys the load writes and reads.") var keys = 100
    @Option(help: "Value size in bytes.") var valueSize = 1024
    @Option(help: "Seconds between a whole cluster and the next kill.") var settle: Double = 1
    @Option(help: "Longest wait, in seconds, from a kill until the load recovers.") var recoveryTimeout: Double = 60
    @Option(help: "Longest wait, in seconds, from a restart until the cluster is whole again.") var wholeTimeout: Double = 60
    @Option(help: "Longest wait, in seconds, for a fresh cluster (per server and for the chain).") var startTimeout: Double = 60
    @Option(help: "Seconds without a success after which the load reopens its session.") var reopenAfter: Double = 20
    @Option(help: "Seed of key choice.") var seed: UInt64 = 1
    @Option(help: "Commit to record in the results.") var commit: String?
    @Option(help: "Command line to record in the results (default: this one).") var invocation: String?

    func sizes() throws -> [Int] {
        let list = servers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return try list.map { item in
            guard let n = Int(item), (3...9).contains(n) else { throw ValidationError("--servers: \"\(item)\" is not a chain size from 3 to 9") }
            return n
        }
    }

    func roleList() throws -> [BenchFailoverRole] {
        let wanted = try roles.split(separator: ",").map { item -> BenchFailoverRole in
            let name = item.trimmingCharacters(in: .whitespaces)
            guard let role = BenchFailoverRole(rawValue: name) else {
                throw ValidationError("--roles: unknown role \"\(name)\" (\(BenchFailoverRole.runOrder.map(\.rawValue).joined(separator: ", ")))")
            }
            return role
        }
        return BenchFailoverRole.runOrder.filter(wanted.contains)
    }

    mutating func validate() throws {
        _ = try sizes()
        _ = try roleList()
        guard kills >= 0, pausedKills >= 0, (zookeeperKills ?? 0) >= 0 else { throw ValidationError("kill counts must not be negative") }
        guard (1024...65000).contains(portBase) else { throw ValidationError("--port-base: 1024-65000") }
        guard keys >= 1, (0...(1 << 20)).contains(valueSize) else { throw ValidationError("--keys at least 1, --value-size 0-1048576") }
        guard settle >= 0, recoveryTimeout > 0, wholeTimeout > 0, startTimeout > 0, reopenAfter > 0 else {
            throw ValidationError("--settle must not be negative, the timeouts and --reopen-after must be positive")
        }
    }

    func run() async throws {
        BenchFailoverChildren.installSignalHandlers()
        // The ZooKeeper C client logs every refused reconnection while a ZooKeeper server is down,
        // which is what this benchmark does on purpose: main (CLILogging) silences ZooKeeper's lines here.
        let started = BenchFailoverLog.start
        let sizes = try sizes(), roles = try roleList()
        let fm = FileManager.default
        let stamp = { () -> String in let f = DateFormatter(); f.dateFormat = "yyyyMMdd-HHmmss"; return f.string(from: Date()) }()
        let outDir = URL(fileURLWithPath: out ?? ".run/bench-failover-\(stamp)").standardizedFileURL
        let serversDir = outDir.appendingPathComponent("run/chainkv")
        try fm.createDirectory(at: serversDir, withIntermediateDirectories: true)
        let binary = URL(fileURLWithPath: serverBin ?? Self.executableFolder().appendingPathComponent("chainkv-server").path)
        guard fm.isExecutableFile(atPath: binary.path) else { throw BenchError("no chainkv-server at \(binary.path) (--server-bin)") }
        let configs = URL(fileURLWithPath: nodeConfig).standardizedFileURL
        let n1 = configs.appendingPathComponent("n1.json")
        guard let nodeSettings = Self.nodeSettings(n1) else { throw BenchError("cannot read \(n1.path) (--node-config)") }

        let zkKills = zookeeperKills ?? kills
        var ensemble: BenchFailoverEnsemble?
        var early: [String] = []
        if let zkBase {
            ensemble = try BenchFailoverEnsemble(base: URL(fileURLWithPath: zkBase).standardizedFileURL,
                                                 script: URL(fileURLWithPath: zkScript).standardizedFileURL)
        } else if zkKills > 0 {
            early.append("no --zk-base: the ZooKeeper leader kills were skipped")
        }
        let zk = zookeeper ?? ProcessInfo.processInfo.environment["CHAINKV_ZK"] ?? ensemble?.connectString
            ?? "127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183"
        if kills + pausedKills > 0, let busy = await Self.busyPort(portBase + 1...portBase + (sizes.max() ?? 0)) {
            throw BenchError("port \(busy) on 127.0.0.1 is in use; choose another --port-base")
        }

        let defaults = ChainKVClient.Options()
        let plan = BenchFailoverPlan(
            killsPerRole: kills, pausedKills: pausedKills, zookeeperKills: ensemble == nil ? 0 : zkKills, roles: roles, keys: keys,
            valueSize: valueSize, seed: seed, settle: settle, recoveryTimeout: recoveryTimeout, wholeTimeout: wholeTimeout,
            startTimeout: startTimeout, reopenAfter: reopenAfter,
            cluster: .init(binary: binary, nodeConfigs: configs, zookeeper: zk, portBase: portBase), folder: serversDir)
        let settings = BenchFailoverFile.Settings(
            killsPerRole: kills, pausedKills: pausedKills, zookeeperKills: plan.zookeeperKills, chainSizes: sizes,
            roles: roles.map(\.rawValue), keys: keys, valueSize: valueSize, settleSeconds: settle, portBase: portBase,
            nodeConfig: nodeSettings, clientRequestTimeoutMs: defaults.requestTimeout.wholeMilliseconds,
            clientConnectTimeoutMs: defaults.connectTimeout.wholeMilliseconds,
            clientRetryBudgetMs: defaults.retryBudget.wholeMilliseconds, reopenAfterSeconds: reopenAfter,
            zookeeperConfig: ensemble?.timing ?? [:], zookeeperSessionTimeoutMs: BenchFailoverZooKeeperPhase.sessionTimeoutMs)
        let command = invocation ?? CommandLine.arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        let recorder = BenchFailoverRecorder(
            BenchFailoverFile(command: command, startedAt: ISO8601DateFormatter().string(from: Date()), durationSeconds: 0,
                              host: ProcessInfo.processInfo.hostName, cores: ProcessInfo.processInfo.activeProcessorCount,
                              commit: commit, settings: settings, summary: [], kills: [], problems: []),
            url: outDir.appendingPathComponent("failover.json"))
        for p in early { recorder.problem(p) }
        BenchFailoverLog.say("results in \(outDir.path); chains of \(sizes.map(String.init).joined(separator: ", ")) on ports \(portBase + 1)...; ZooKeeper \(zk)")

        if kills + pausedKills > 0 && !roles.isEmpty {
            do {
                let probe = try await BenchFailoverProbe.connect(zk)
                for size in sizes {
                    await BenchFailoverChainPhase(size: size, plan: plan, probe: probe, recorder: recorder).run()
                }
                await probe.close()
            } catch {
                recorder.problem("cannot reach ZooKeeper at \(zk): \(error); the chainkv kills were skipped")
            }
        }
        if let ensemble, plan.zookeeperKills > 0 {
            await BenchFailoverZooKeeperPhase(ensemble: ensemble, plan: plan, recorder: recorder).run()
        }

        let file = recorder.finish(duration: Double(benchNow() - started) / 1e9)
        try Data(BenchFailoverReport.summary(file).utf8).write(to: outDir.appendingPathComponent("summary.md"))
        let chart = outDir.appendingPathComponent("failover.svg")
        if let svg = BenchFailoverChart.svg(file) { try Data(svg.utf8).write(to: chart) }
        print(BenchFailoverReport.text(file.summary))
        if !file.problems.isEmpty {
            print("\nproblems:\n" + file.problems.map { "  - " + $0 }.joined(separator: "\n"))
        }
        let chartNote = FileManager.default.fileExists(atPath: chart.path) ? ", \(chart.path)" : ""
        print("\nresults: \(outDir.appendingPathComponent("failover.json").path), \(outDir.appendingPathComponent("summary.md").path)\(chartNote)")
        if !file.problems.isEmpty || file.kills.isEmpty { throw ExitCode(1) }
    }

    static func executableFolder() -> URL {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }

    /// The node file's settings, as strings, without the fields every server overrides.
    static func nodeSettings(_ url: URL) -> [String: String]? {
        guard let data = try? Data(contentsOf: url),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        let overridden: Set<String> = ["id", "port", "dataDir", "zookeeper", "cluster", "expectedMembers", "metricsPort"]
        var out: [String: String] = [:]
        for (k, v) in object where !overridden.contains(k) { out[k] = "\(v)" }
        return out
    }

    static func busyPort(_ ports: ClosedRange<Int>) async -> Int? {
        for p in ports where await BenchFailoverSocket.listening(port: p) { return p }
        return nil
    }
}


import ArgumentParser
import ChainCheck
import ChainCore
import ChainKV
import ChainStorage
import ChainTestSupport
import ChainWire
import Foundation

@main
struct TortureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chainkv-torture",
        abstract: "Fault injection with a linearizability check: nothing acknowledged may be lost.",
        discussion: """
        Each run starts a 3-server ZooKeeper ensemble and a 5-server chain on loopback (free ports,
        its own folder), runs concurrent clients over a few keys while a seeded nemesis injects
        faults, then heals the cluster, reads every key, checks the history for linearizability,
        checks that every acknowledged write was read back or overwritten, and that the replicas'
        SQLite files converged. A failing run prints its seed: rerun it with --seed S --runs 1.
        """)

    @Option(help: "Number of runs (seeds seed, seed+1, ...).") var runs = 1
    @Option(help: "Seed of the first run (default: random).") var seed: UInt64?
    @Option(help: "Seconds of workload and faults per run.") var duration = 60.0
    @Option(help: "Concurrent clients.") var clients = 6
    @Option(help: "Keys the clients share.") var keys = 5
    @Option(help: "A run with fewer faults than this fails.") var minFaults = 20
    @Option(help: "Chains the keys are sharded over (1: one chain of all 5 servers; more: chains of 3).") var chains = 1
    @Flag(help: "Growth: one chain of 3 per server (chains 0), and a sixth server joins a third into the run.") var grow = false
    @Option(help: "Folder of chainkv-server (default: next to this program).") var bin: String?
    @Option(help: "Folder for run data (default: a new temporary folder).") var base: String?
    @Flag(help: "Keep the data of passing runs too.") var keep = false
    @Option(help: "The disk-fault shim (libdiskfault.so, from scripts/diskfault.c): with it, disk faults join the schedule (default: libdiskfault.so next to chainkv-server, if there).")
    var diskfaultLib: String?

    func run() async throws {
        let binDir = bin.map { URL(fileURLWithPath: $0) } ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let first = seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let root = URL(fileURLWithPath: base ?? NSTemporaryDirectory() + "chainkv-torture-\(first)")
        let shim = diskfaultLib.map { URL(fileURLWithPath: $0) } ?? binDir.appendingPathComponent("libdiskfault.so")
        let diskFaultLibrary = FileManager.default.fileExists(atPath: shim.path) ? shim : nil
        if diskFaultLibrary == nil { print("no disk-fault shim at \(shim.path): disk faults are left out of the schedule") }
        // Partitions between servers need nft (and root): without it those kinds are left out.
        ExitCleanup.install()
        if PacketFilter.nft == nil {
            print("nft is not installed (scripts/deps installs nftables): partitions between servers are left out of the schedule")
        } else {
            let stale = NetworkCuts.removeStaleTables()
            if !stale.isEmpty { print("removed nft tables of runners no longer running: \(stale.joined(separator: " "))") }
        }
        var reports: [RunReport] = []
        for r in 0..<runs {
            let s = first + UInt64(r)
            let dir = root.appendingPathComponent("seed-\(s)")
            try? FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            print("run \(r + 1)/\(runs): seed \(s), \(Int(duration)) s, data in \(dir.path)")
            let report = await TortureRun(seed: s, dir: dir, binDir: binDir, duration: duration, clients: clients, keys: keys,
                                          minFaults: minFaults, chains: grow ? 0 : chains, grow: grow,
                                          diskFaultLibrary: diskFaultLibrary).execute()
            print(report.line)
            for note in report.notes { print("  note: \(note)") }
            if !report.passed { print(report.details) }
            if report.passed && !keep { try? FileManager.default.removeItem(at: dir) }
            reports.append(report)
        }
        print("")
        print(RunReport.table(reports))
        let failed = reports.filter { !$0.passed }
        print("torture: \(reports.count - failed.count) passed, \(failed.count) failed")
        if !failed.isEmpty {
            print("failing seeds: \(failed.map { "\($0.seed)" }.joined(separator: " ")) (rerun: chainkv-torture --seed S --runs 1)")
            throw ExitCode(1)
        }
    }
}

struct RunReport {
    var seed: UInt64
    var operations = 0, ok = 0, unknown = 0
    var faults: [String: Int] = [:]
    var verdict = "not checked"
    var lost = 0
    var converged = false
    var longestUnavailableMs = 0
    var scanPages = 0
    /// The cross-key check of scan pages: "n/a" on several chains (a page is not one snapshot there).
    var snapshots = "not checked"
    /// Events the watchers received, and how many watchers' streams were exact (`Watchers.swift`).
    var watchEvents = 0
    var watchersExact = "not checked"
    /// Worth knowing, not a failure (a watcher resumed past a compaction).
    var notes: [String] = []
    var problems: [String] = []
    var details = ""

    var faultCount: Int { faults.values.reduce(0, +) }
    var passed: Bool { problems.isEmpty }

    var line: String {
        "seed \(seed): \(operations) ops (\(ok) ok, \(unknown) unknown), \(faultCount) faults, \(verdict), lost \(lost), "
            + "replicas \(converged ? "converged" : "DIVERGED"), longest unavailability \(longestUnavailableMs) ms, "
            + "\(scanPages) scan pages, snapshots \(snapshots), \(watchEvents) watch events, watchers exact \(watchersExact)"
            + (passed ? "  PASS" : "  FAIL: " + problems.joined(separator: "; "))
    }

    static func table(_ reports: [RunReport]) -> String {
        var lines = ["| seed | ops | ok | unknown | faults | linearizable | acked lost | converged | longest unavailability | scan pages | one-instant pages | watch events | watchers exact |",
                     "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in reports {
            lines.append("| \(r.seed) | \(r.operations) | \(r.ok) | \(r.unknown) | \(r.faultCount) | \(r.verdict) | \(r.lost) | \(r.converged ? "yes" : "no") | \(r.longestUnavailableMs) ms | \(r.scanPages) | \(r.snapshots) | \(r.watchEvents) | \(r.watchersExact) |")
        }
        var kinds: [String: Int] = [:]
        for r in reports { for (k, v) in r.faults { kinds[k, default: 0] += v } }
        lines.append("")
        lines.append("faults by kind: " + kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}

struct TortureRun {
    let seed: UInt64
    let dir: URL
    let binDir: URL
    let duration: Double
    let clients: Int
    let keys: Int
    let minFaults: Int
    let chains: Int
    let grow: Bool
    let diskFaultLibrary: URL?

    func execute() async -> RunReport {
        var report = RunReport(seed: seed)
        let size = grow ? 6 : 5
        // The servers' addresses: a block of 127.0.1.x of this run's own; its nft table (one per
        // run), removed when the run ends, whatever way it ends.
        let block: HostBlock
        do {
            block = try HostBlock.claim(start: Int(seed % UInt64(HostBlock.count)))
        } catch {
            report.problems.append("setup: \(error)")
            return report
        }
        defer { block.release() }
        var net: NetworkCuts?
        if PacketFilter.nft != nil {
            do {
                net = try NetworkCuts(seed: seed)
            } catch {
                report.notes.append("partitions between servers left out: \(error)")
            }
        } else {
            report.notes.append("partitions between servers left out: nft is not installed")
        }
        defer { net?.remove() }
        let ensemble: Ensemble, fleet: Fleet
        do {
            ensemble = try Ensemble(base: dir)
            try ensemble.start()
            fleet = try Fleet(base: dir, binDir: binDir, ensemble: ensemble, hosts: (0..<size).map(block.host), net: net, size: size,
                              chains: chains, later: grow ? 1 : 0, diskFaultLibrary: diskFaultLibrary)
            try fleet.start()
        } catch {
            report.problems.append("setup: \(error)")
            return report
        }
        defer { fleet.stop(); ensemble.stop() }
        guard await waitForChains(fleet, timeout: 60) else {
            report.problems.append("the chain did not form")
            return report
        }

        let workload = Workload(keys: keys)
        let nemesis = Nemesis(fleet: fleet, ensemble: ensemble, seed: seed, started: workload.start)
        let supervisor = Task {
            while !Task.isCancelled {
                fleet.supervise()
                try? await Task.sleep(nanoseconds: 300_000_000)
            }
        }
        // Watchers first, from version 0: their streams should hold every change the load makes.
        // In growth runs too: a slot move's copies and purge deletes are not changes, and a key's
        // changes stay in order across the move (README, "Watches"). The new chain is read from
        // its oldest change (the watchers' clients find it in the slot map).
        let watchers = Watchers(workload: workload, sharded: grow || chains != 1)
        if !(await watchers.start(servers: fleet.addresses, chains: grow ? fleet.active : chains, timeout: 30)) {
            report.problems.append("the watchers could not start (no chain ids within 30 s)")
        }
        let load = Task { await workload.run(clients: clients, keys: keys, servers: fleet.addresses, seed: seed) }
        let joining = grow ? Task {
            try? await Task.sleep(nanoseconds: UInt64(duration / 3 * 1e9))
            try? fleet.join(fleet.servers.count - 1)
            nemesis.joined(fleet.servers.last!.name)
        } : nil
        await nemesis.run(until: Date().addingTimeInterval(duration))
        await joining?.value
        workload.stop()
        await load.value
        let loadEnd = workload.now

        // Heal: everything running again, the chain whole.
        for s in fleet.servers where s.stopped { s.signal(SIGCONT) }
        for i in fleet.servers.indices { fleet.heal(i) }
        fleet.net?.healAll()
        for z in ensemble.servers where !z.isRunning { try? z.start() }
        let healed = await waitForChains(fleet, timeout: 90)
        // Wait for the supervisor to finish: a restart it has under way must not outlive the run.
        supervisor.cancel()
        await supervisor.value
        if !healed { report.problems.append("the cluster did not heal to whole chains within 90 s") }
        // Writes whose clients gave up may still be in flight and commit later (an unknown outcome
        // may take effect at any time): read only once nothing is in flight anywhere.
        if grow, !(await waitForSpread(fleet, timeout: 90)) {
            report.problems.append("the slots were not spread over \(fleet.active) chains within 90 s of healing")
        }
        // Requests the clients gave up on while a cut dropped them may still be on their way
        // (`ClientDrain`): quiet means nothing more can arrive.
        let undelivered = await ClientDrain.wait(for: fleet.addresses)
        if undelivered > 0 {
            report.notes.append("\(undelivered) closed client sockets still retransmitting after \(Int(ClientDrain.waitMax)) s")
        }
        if !(await waitForQuiet(fleet, timeout: 30)) { report.problems.append("writes still in flight 30 s after healing") }

        // Final reads, recorded in the history after everything else.
        var finals: [String: [UInt8]?] = [:]
        var owners: SlotMap?
        if let kv = try? ChainKVClient(servers: fleet.addresses, options: Workload.options()) {
            if chains != 1 { owners = (try? await kv.shards())?.slotMap }
            for k in 0..<keys {
                let key = "k\(k)"
                let invoke = workload.now
                do {
                    let v = try await kv.get(key)
                    finals[key] = v
                    workload.record(HistoryOp(id: 0, client: clients, key: key, kind: .get(value: v), invoke: invoke, complete: workload.now))
                } catch {
                    report.problems.append("final read of \(key) failed: \(error)")
                }
            }
            await kv.shutdown()
        }

        var history = workload.history.sorted { $0.invoke < $1.invoke }
        for i in history.indices { history[i].id = i }
        try? HistoryFile.encode(history).write(to: dir.appendingPathComponent("history.jsonl"), atomically: true, encoding: .utf8)
        report.operations = history.count
        report.ok = history.filter { $0.complete != nil }.count
        report.unknown = history.count - report.ok
        report.faults = Dictionary(uniqueKeysWithValues: Nemesis.Kind.allCases.compactMap { k in nemesis.counts[k].map { (k.rawValue, $0) } })
        if report.faultCount < minFaults { report.problems.append("only \(report.faultCount) faults (< \(minFaults))") }

        let result = LinearizabilityChecker.check(history)
        report.verdict = result.verdict.rawValue
        if !result.isLinearizable {
            report.problems.append("history is \(result.verdict.rawValue)")
            report.details += result.describe() + "\n"
        }
        checkScans(workload.scanPages, history: history, &report)
        try? workload.scanPages.map(\.description).joined(separator: "\n")
            .write(to: dir.appendingPathComponent("scans.txt"), atomically: true, encoding: .utf8)
        report.lost = LostWrites.count(history, finals: finals)
        if report.lost > 0 { report.problems.append("\(report.lost) acknowledged writes lost") }
        await checkWatches(watchers, history: history, finals: finals, &report)
        noteUnavailability(of: history.filter { $0.invoke < loadEnd }, loadEnd: loadEnd, faults: nemesis.log, &report)

        // Replicas converge: once quiet, every member's SQLite file of each chain holds the same rows.
        try? await Task.sleep(nanoseconds: 1_000_000_000)
        for s in fleet.servers { s.stop() }
        checkConvergence(fleet, finals: finals, owners: owners, &report)
        checkDiskFaults(nemesis, fleet: fleet, &report)
        checkForTraps(fleet: fleet, &report)
        if let net = fleet.net {
            report.notes.append("servers on \(block.description), nft table \(net.table)")
            for failure in net.failures { report.problems.append("nft: \(failure)") }
        }
        report.details += "faults:\n" + nemesis.log.map(\.description).joined(separator: "\n")
        // The schedule, for a passing run kept with --keep too (beside the servers' logs).
        try? (nemesis.log.map(\.description).joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("faults.txt"), atomically: true, encoding: .utf8)
        return report
    }

    /// How long before the longest unavailability a fault is named beside it: a kill or a pause
    /// ends the service only once clients' requests time out (a second or two).
    static let faultLeadSeconds = 5.0

    /// The longest time the load saw no operation complete, and what the faults did around it.
    /// `history` holds the load's operations only: the final reads come after the heal, and the
    /// time the runner spends healing is no outage. A load that ended inside an outage has no
    /// completion to close it: that tail is noted on its own.
    func noteUnavailability(of history: [HistoryOp], loadEnd: UInt64, faults: [Nemesis.Entry], _ report: inout RunReport) {
        guard let window = UnavailabilityWindow.longest(in: history) else { return }
        report.longestUnavailableMs = window.milliseconds
        let near = faults.filter { window.covers(seconds: $0.seconds, lead: Self.faultLeadSeconds) }
        report.notes.append("longest unavailability \(window.milliseconds) ms at \(window) of the run; what happened from "
                            + "\(Int(Self.faultLeadSeconds)) s before it: "
                            + (near.isEmpty ? "nothing" : near.map { $0.description.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")))
        if let last = UnavailabilityWindow.completionTimes(in: history).last, loadEnd > last,
           loadEnd - last > window.to - window.from {
            report.notes.append("no operation completed in the last \((loadEnd - last) / 1_000_000) ms of the load (still unavailable when it stopped)")
        }
    }

}

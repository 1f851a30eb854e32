import ChainKV
import Foundation
import Glibc

/// The kills on chains of one length: keeps a cluster running under load, makes sure the wanted
/// role exists (starting a fresh cluster in a suitable order when it does not; see
/// BenchFailoverRole.startOrder), verifies it from a fresh view, kills, waits for the load to
/// recover, restarts the victim, waits for the chain to be whole again, and measures.
/// Used from one task only.
final class BenchFailoverChainPhase {
    let size: Int
    let plan: BenchFailoverPlan
    let probe: BenchFailoverProbe
    let recorder: BenchFailoverRecorder
    private var cluster: BenchFailoverCluster?
    private var load: BenchFailoverLoad?
    private var generation = 0
    /// The cluster is not known to be whole under flowing load: start fresh before the next kill.
    private var broken = true

    init(size: Int, plan: BenchFailoverPlan, probe: BenchFailoverProbe, recorder: BenchFailoverRecorder) {
        self.size = size
        self.plan = plan
        self.probe = probe
        self.recorder = recorder
    }

    func run() async {
        for role in plan.roles {
            let count = plan.kills(for: role)
            guard count > 0 else { continue }
            if role == .middle && size < 3 {
                recorder.problem("\(size) servers: a chain this short has no middle")
                continue
            }
            for n in 1...count {
                guard let (victim, view) = await arrange(role) else {
                    recorder.problem("\(size) servers, \(role.rawValue): the role could not be arranged; \(count - n + 1) kills skipped")
                    break
                }
                recorder.add(await killOnce(role: role, n: n, victim: victim, view: view))
            }
        }
        await teardown()
    }

    /// A running server that holds `role`, verified from a view read just now of a whole chain
    /// under flowing load; nil if even fresh clusters did not give one.
    private func arrange(_ role: BenchFailoverRole) async -> (BenchFailoverServer, BenchFailoverView)? {
        var freshStarts = 0, tries = 0
        while tries < 10 {
            tries += 1
            if !broken, let cluster, let load {
                guard let whole = await cluster.waitWhole(probe: probe, timeout: plan.wholeTimeout) else {
                    recorder.problem("\(size) servers: \(cluster.name) not whole for \(Int(plan.wholeTimeout)) s; starting a fresh cluster")
                    broken = true
                    continue
                }
                if whole.victim(for: role) != nil {
                    guard await BenchFailoverWait.untilTrue(timeout: 10, every: 0.02, { load.flowing(within: 0.5) }) else {
                        recorder.problem("\(size) servers: the load stalled on a whole chain (\(whole.description)); starting a fresh cluster")
                        broken = true
                        continue
                    }
                    // Verified right before the kill: never a guessed role.
                    if let now = await probe.view(cluster.paths, servers: cluster.servers), now.isWhole(size: size),
                       let id = now.victim(for: role), let server = cluster.server(id), server.isRunning {
                        return (server, now)
                    }
                    continue
                }
            }
            guard freshStarts < 3 else { return nil }
            freshStarts += 1
            do {
                try await freshStart(order: role.startOrder(size: size))
            } catch {
                recorder.problem("\(size) servers: fresh cluster failed: \(error)")
                broken = true
            }
        }
        return nil
    }

    /// Replaces the cluster by a new generation started in `order`, preloads the keys, starts the load.
    private func freshStart(order: [String]) async throws {
        await teardown()
        broken = true
        generation += 1
        let name = "bfo-\(getpid())-n\(size)-g\(generation)"
        let c = try BenchFailoverCluster(size: size, name: name, folder: plan.folder.appendingPathComponent("n\(size)-g\(generation)"),
                                         setup: plan.cluster)
        cluster = c
        BenchFailoverLog.say("\(size) servers: fresh cluster \(name), started in the order \(order.joined(separator: ", "))")
        let view = try await c.start(order: order, probe: probe, timeout: plan.startTimeout)
        try await preload(c)
        let l = BenchFailoverLoad(withReader: true)
        let keys = plan.keySpace, addresses = c.addresses
        l.start(keys: plan.keys, values: plan.values, seed: plan.seed &+ UInt64(generation) &* 7919, reopenAfter: plan.reopenAfter) {
            BenchChainKVSession(client: try ChainKVClient(servers: addresses), keys: keys)
        }
        load = l
        guard await BenchFailoverWait.untilTrue(timeout: 30, every: 0.05, { l.flowing(within: 0.5) }) else {
            throw BenchError("the load does not flow on the fresh cluster \(name)")
        }
        BenchFailoverLog.say("\(size) servers: \(view.description)")
        await BenchFailoverWait.sleep(plan.settle)
        broken = false
    }

    private func preload(_ c: BenchFailoverCluster) async throws {
        let client = try ChainKVClient(servers: c.addresses)
        defer { client.beginShutdown() }
        let keys = plan.keySpace, values = plan.values
        for i in 0..<plan.keys {
            var attempt = 1
            while true {
                do {
                    try await client.put(keys.key(i), values.value(i))
                    break
                } catch {
                    if attempt == 5 { throw BenchError("preloading \(c.name): \(error)") }
                    attempt += 1
                }
            }
        }
    }

    private func teardown() async {
        if let load { await load.stop() }
        load = nil
        if let cluster {
            await cluster.stop()
            cluster.removeData()
        }
        cluster = nil
    }

    private func killOnce(role: BenchFailoverRole, n: Int, victim: BenchFailoverServer, view: BenchFailoverView) async -> BenchFailoverKill {
        let cluster = self.cluster!, load = self.load!, probe = self.probe, size = self.size
        let reopenedBefore = load.reopenedSessions
        var notes: [String] = []
        let pid = victim.pid ?? 0
        let kill = benchNow()
        if !victim.signal(role.signal) { notes.append("\(role.signalName) could not be sent") }
        if role.signal == SIGKILL, !(await victim.waitExit(timeout: 10)) { notes.append("still running 10 s after SIGKILL") }
        BenchFailoverLog.say("\(size) servers, \(role.rawValue) #\(n): \(role.signalName) \(victim.id) (pid \(pid)); before: \(view.description)")

        // Recovered: the chain configuration has dropped the victim, and both loops have succeeded
        // with an operation begun after that.
        var replaced: UInt64?
        let recovered = await BenchFailoverWait.untilTrue(timeout: plan.recoveryTimeout, every: 0.02) {
            if replaced == nil, let chain = await probe.chain(cluster.paths), !chain.members.contains(victim.id) { replaced = benchNow() }
            guard let replaced else { return false }
            return load.succeeded(invokedAfter: replaced)
        }
        let recoveredAt = benchNow()
        if !recovered { notes.append("the load had not recovered \(Int(plan.recoveryTimeout)) s after the kill") }

        var outcome: String?
        if role.signal == SIGSTOP { outcome = await resume(victim, in: cluster) }
        let restart = benchNow()
        if !victim.isRunning {
            do {
                try await victim.start()
            } catch {
                notes.append("restart failed: \(error)")
            }
        }
        let whole = await cluster.waitWhole(probe: probe, timeout: plan.wholeTimeout)
        let wholeAt = benchNow()
        if whole == nil {
            broken = true
            notes.append("not whole \(Int(plan.wholeTimeout)) s after the restart")
        }
        // The loops' first successes after that close the window.
        _ = await BenchFailoverWait.untilTrue(timeout: 10, every: 0.01) {
            load.writes.succeeded(completedAfter: wholeAt) && (load.reads?.succeeded(completedAfter: wholeAt) ?? true)
        }
        let now = benchNow()
        let after = whole == nil ? await probe.view(cluster.paths, servers: cluster.servers) : whole
        let ms = BenchFailoverWait.ms
        var record = BenchFailoverKill(
            system: "chainkv", servers: size, role: role.rawValue, n: n, victim: victim.id, victimPid: pid,
            signal: role.signalName, atSeconds: BenchFailoverLog.seconds(kill), cluster: cluster.name,
            victimPosition: view.positionName(of: victim.id) ?? "?", leaderBefore: view.leader,
            leaderPositionBefore: view.leader.flatMap { view.positionName(of: $0) }, chainBefore: view.chain,
            electionBefore: view.election, epochBefore: view.epoch, replacedAfterMs: replaced.map { ms(kill, $0) },
            recoveredAfterMs: recovered ? ms(kill, recoveredAt) : nil, restartedAfterMs: ms(kill, restart),
            wholeAfterMs: whole == nil ? nil : ms(kill, wholeAt), chainAfter: after?.chain ?? [], leaderAfter: after?.leader,
            write: load.writes.gap(kill: kill, end: wholeAt, now: now), read: load.reads?.gap(kill: kill, end: wholeAt, now: now),
            reopenedSessions: load.reopenedSessions - reopenedBefore, victimOutcome: outcome, notes: notes)
        BenchFailoverLog.say(String(format: "  write %.0f ms, read %.0f ms unavailable; errors %d/%d; replaced %@, whole %@%@",
                                    record.write.unavailableMs, record.read?.unavailableMs ?? 0, record.write.errors, record.read?.errors ?? 0,
                                    record.replacedAfterMs.map { String(format: "%.0f ms", $0) } ?? "never",
                                    record.wholeAfterMs.map { String(format: "%.0f ms", $0) } ?? "never",
                                    outcome.map { "; victim \($0)" } ?? ""))
        let settleLeft = await record.addRates(kill: kill, writes: load.writes, reads: load.reads, settle: plan.settle)
        load.writes.discard(before: wholeAt)
        load.reads?.discard(before: wholeAt)
        await BenchFailoverWait.sleep(settleLeft)
        return record
    }

    /// head-paused, once the load recovered: SIGCONT, then wait until the server exits (its
    /// session expired, or the leader fenced it) or is back in a whole chain on its own; one that
    /// does neither within 30 s is killed. Says what happened.
    private func resume(_ victim: BenchFailoverServer, in cluster: BenchFailoverCluster) async -> String {
        victim.signal(SIGCONT)
        let resumed = benchNow()
        let size = self.size, probe = self.probe
        let outcome = await BenchFailoverWait.until(timeout: 30, every: 0.1) { () -> String? in
            if !victim.isRunning { return "exited with status \(victim.exitStatus ?? -1)" }
            if let view = await probe.view(cluster.paths, servers: cluster.servers), view.isWhole(size: size) { return "back in the chain without a restart" }
            return nil
        }
        let after = String(format: " %.0f ms after SIGCONT", BenchFailoverWait.ms(resumed, benchNow()))
        if let outcome { return outcome + after }
        await victim.kill()
        return "neither exited nor rejoined within 30 s of SIGCONT: killed" + after
    }
}

import Foundation
import Glibc

/// The same closed-loop writer (one setData of the value size per write) against the ZooKeeper
/// ensemble: its leader SIGKILLed, scripts/zk starting it again, the same gap measure as for chainkv.
struct BenchFailoverZooKeeperPhase {
    let ensemble: BenchFailoverEnsemble
    let plan: BenchFailoverPlan
    let recorder: BenchFailoverRecorder
    let parent = "/chainkv-bench-failover"
    /// The session timeout of the writer's ZooKeeper sessions (BenchTarget's).
    static let sessionTimeoutMs = 30_000

    func run() async {
        guard plan.zookeeperKills > 0 else { return }
        guard await serving(timeout: plan.startTimeout) != nil else {
            recorder.problem("ZooKeeper: the ensemble is not serving (one leader, the rest followers); its kills skipped")
            return
        }
        let target = BenchTarget(kind: .zookeeper, servers: ensemble.connectString, timeout: 10, zkParent: parent)
        let keys = plan.keySpace, values = plan.values
        do {
            try await target.prepare()
            let session = try await target.open(keys: keys)
            for i in 0..<plan.keys { try await session.load(i, values.value(i)) }
            await session.close()
        } catch {
            recorder.problem("ZooKeeper: preparing \(parent) failed: \(error); its kills skipped")
            return
        }
        let load = BenchFailoverLoad(withReader: false)
        load.start(keys: plan.keys, values: values, seed: plan.seed &+ 99, reopenAfter: plan.reopenAfter) {
            try await target.open(keys: keys)
        }
        var n = 1, retries = 0
        loop: while n <= plan.zookeeperKills {
            switch await killOnce(n: n, load: load) {
            case .done: n += 1
            case .again where retries < 5: retries += 1
            case .again, .stop: break loop
            }
        }
        await load.stop()
    }

    private enum Outcome { case done, again, stop }

    /// One kill; `again` when the leader changed before the kill, `stop` when the ensemble is in no state to go on.
    private func killOnce(n: Int, load: BenchFailoverLoad) async -> Outcome {
        guard let modes = await serving(timeout: plan.wholeTimeout),
              let leaderName = modes.first(where: { $0.value == "leader" })?.key,
              let leader = ensemble.servers.first(where: { $0.name == leaderName }) else {
            recorder.problem("ZooKeeper: not serving with one leader for \(Int(plan.wholeTimeout)) s; \(plan.zookeeperKills - n + 1) kills skipped")
            return .stop
        }
        guard let pid = ensemble.pid(leader) else {
            recorder.problem("ZooKeeper: the leader, server \(leaderName), has no live pid of its own in \(leader.folder.path)/pid; kills stopped")
            return .stop
        }
        guard await BenchFailoverWait.untilTrue(timeout: 10, every: 0.02, { load.flowing(within: 0.5) }) else {
            recorder.problem("ZooKeeper: the writer stalled on a serving ensemble; kills stopped")
            return .stop
        }
        // Checked again right before the kill.
        guard await ensemble.mode(leader) == "leader" else { return .again }
        var notes: [String] = []
        let reopenedBefore = load.reopenedSessions
        let kill = benchNow()
        Glibc.kill(pid, SIGKILL)
        if !(await BenchFailoverWait.untilTrue(timeout: 10, every: 0.01) { !BenchFailoverEnsemble.alive(pid) }) {
            notes.append("still alive 10 s after SIGKILL")
        }
        let order = modes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        BenchFailoverLog.say("ZooKeeper, leader #\(n): SIGKILL server \(leaderName) (pid \(pid)); before: \(order)")

        var replaced: UInt64?
        let ensemble = self.ensemble
        let recovered = await BenchFailoverWait.untilTrue(timeout: plan.recoveryTimeout, every: 0.05) {
            if replaced == nil, await ensemble.modes().contains(where: { $0.key != leaderName && $0.value == "leader" }) { replaced = benchNow() }
            guard let replaced else { return false }
            return load.succeeded(invokedAfter: replaced)
        }
        let recoveredAt = benchNow()
        if !recovered { notes.append("the writer had not recovered \(Int(plan.recoveryTimeout)) s after the kill") }
        let restart = benchNow()
        if !(await ensemble.restart(timeout: plan.startTimeout + 30)) {
            notes.append("scripts/zk start failed (see \(ensemble.base.path)/zk/restarts.log)")
        }
        let after = await serving(timeout: plan.wholeTimeout)
        let wholeAt = benchNow()
        if after == nil { notes.append("not all serving \(Int(plan.wholeTimeout)) s after the restart") }
        _ = await BenchFailoverWait.untilTrue(timeout: 10, every: 0.01) { load.writes.succeeded(completedAfter: wholeAt) }
        let now = benchNow()
        let ms = BenchFailoverWait.ms
        let byName = modes.keys.sorted()
        var record = BenchFailoverKill(
            system: "zookeeper", servers: ensemble.servers.count, role: "leader", n: n, victim: "zk\(leaderName)", victimPid: pid,
            signal: "SIGKILL", atSeconds: BenchFailoverLog.seconds(kill), cluster: nil, victimPosition: "leader",
            leaderBefore: "zk\(leaderName)", leaderPositionBefore: "leader", chainBefore: byName.map { "zk\($0) \(modes[$0]!)" },
            electionBefore: [], epochBefore: nil, replacedAfterMs: replaced.map { ms(kill, $0) },
            recoveredAfterMs: recovered ? ms(kill, recoveredAt) : nil, restartedAfterMs: ms(kill, restart),
            wholeAfterMs: after == nil ? nil : ms(kill, wholeAt),
            chainAfter: (after ?? [:]).sorted { $0.key < $1.key }.map { "zk\($0.key) \($0.value)" },
            leaderAfter: after?.first { $0.value == "leader" }.map { "zk\($0.key)" },
            write: load.writes.gap(kill: kill, end: wholeAt, now: now), read: nil,
            reopenedSessions: load.reopenedSessions - reopenedBefore, victimOutcome: nil, notes: notes)
        let settleLeft = await record.addRates(kill: kill, writes: load.writes, reads: nil, settle: plan.settle)
        recorder.add(record)
        BenchFailoverLog.say(String(format: "  write %.0f ms unavailable; errors %d; new leader after %@, whole %@",
                                    record.write.unavailableMs, record.write.errors,
                                    record.replacedAfterMs.map { String(format: "%.0f ms", $0) } ?? "never",
                                    record.wholeAfterMs.map { String(format: "%.0f ms", $0) } ?? "never"))
        load.writes.discard(before: wholeAt)
        await BenchFailoverWait.sleep(settleLeft)
        guard after != nil else {
            recorder.problem("ZooKeeper: not all serving \(Int(plan.wholeTimeout)) s after restarting server \(leaderName); \(plan.zookeeperKills - n) kills skipped")
            return .stop
        }
        return .done
    }

    /// Waits until every server serves and exactly one leads; their modes by name, nil on timeout.
    private func serving(timeout: Double) async -> [String: String]? {
        let ensemble = self.ensemble
        return await BenchFailoverWait.until(timeout: timeout, every: 0.1) { () -> [String: String]? in
            let modes = await ensemble.modes()
            guard modes.count == ensemble.servers.count, modes.values.filter({ $0 == "leader" }).count == 1,
                  modes.values.allSatisfy({ $0 == "leader" || $0 == "follower" }) else { return nil }
            return modes
        }
    }
}

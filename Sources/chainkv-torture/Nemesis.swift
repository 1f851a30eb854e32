import ChainCore
import ChainTestSupport
import ChainWire
import Foundation

/// Injects faults on a seeded random schedule: SIGKILL and restart (head, middle, tail, leader or
/// any), SIGSTOP past the session timeout, a ZooKeeper server killed, all servers but one
/// restarted at once, a server cut off from ZooKeeper (a network partition through its
/// proxies), disk faults (NemesisDisk.swift: EIO, a damaged file, a slow disk) when the fleet
/// preloads the disk-fault shim, and partitions between servers (NemesisNetwork.swift: packet
/// filter rules on the servers' own addresses) when nft is there. Faults overlap, but never two
/// on the same process.
final class Nemesis: @unchecked Sendable {
    enum Kind: String, CaseIterable {
        case killHead = "kill head", killMiddle = "kill middle", killTail = "kill tail", killLeader = "kill leader"
        case pause = "pause (SIGSTOP)", killZooKeeper = "kill ZooKeeper server", bulkRestart = "restart all but one"
        case partition = "partition from ZooKeeper"
        case diskEIO = "disk EIO", damagedFile = "damaged database file", slowDisk = "slow disk", diskFull = "disk full (ENOSPC)"
        case cutPair = "cut two servers apart", cutOneWay = "one-way cut", cutHeadSuccessor = "head cut from its successor"
        case isolateLeader = "leader cut from its peers", cutClients = "server cut from its clients", flapLink = "flapping link"

        /// Kinds that need the disk-fault shim in every server (`Fleet.diskFaults`).
        var needsShim: Bool { [.diskEIO, .damagedFile, .slowDisk, .diskFull].contains(self) }
        /// Kinds that cut links with nft (`Fleet.net`).
        var needsFilter: Bool { [.cutPair, .cutOneWay, .cutHeadSuccessor, .isolateLeader, .cutClients, .flapLink].contains(self) }
    }

    let fleet: Fleet
    private let ensemble: Ensemble
    var rng: SplitMix64
    let lock = NSLock()
    private var busy: Set<String> = []
    private(set) var counts: [Kind: Int] = [:]
    /// What happened when, in seconds since `started`: every fault, and remarks during them.
    private(set) var log: [Entry] = []
    private var tasks: [Task<Void, Never>] = []
    /// The run's origin on the workload's monotonic clock, so that a fault's time and an
    /// operation's compare (`UnavailabilityWindow`).
    let started: ContinuousClock.Instant
    /// The kinds this run draws from: every kind, less the disk faults without the shim and the
    /// partitions between servers without nft.
    let kinds: [Kind]
    /// Disk faults' outcomes, for the run's report (NemesisDisk.swift), under `lock`.
    var disk = DiskOutcomes()

    /// Where the torture's own ZooKeeper clients connect (not through the servers' proxies, which
    /// partitions cut).
    var ensembleConnectString: String { ensemble.connectString }

    init(fleet: Fleet, ensemble: Ensemble, seed: UInt64, started: ContinuousClock.Instant) {
        self.started = started
        self.fleet = fleet
        self.ensemble = ensemble
        self.rng = SplitMix64(seed: seed ^ 0x5EED)
        self.kinds = Kind.allCases.filter { (fleet.diskFaults || !$0.needsShim) && (fleet.net != nil || !$0.needsFilter) }
    }

    var total: Int { lock.withLock { counts.values.reduce(0, +) } }

    func run(until deadline: Date) async {
        while Date() < deadline {
            let gap = Double.random(in: 0.8...2.0, using: &rng)
            try? await Task.sleep(nanoseconds: UInt64(gap * 1e9))
            guard Date() < deadline else { break }
            await inject(kinds.randomElement(using: &rng)!)
        }
        for t in lock.withLock({ tasks }) { await t.value }
    }

    func claim(_ names: [String]) -> Bool {
        lock.withLock {
            guard busy.isDisjoint(with: names) else { return false }
            busy.formUnion(names)
            return true
        }
    }

    func release(_ names: [String]) { lock.withLock { busy.subtract(names) } }

    func note(_ kind: Kind, _ what: String) {
        lock.withLock {
            counts[kind, default: 0] += 1
            log.append(Entry(seconds: elapsed, text: what))
        }
    }

    /// Logs a server's start in the middle of the run (growth), beside the faults.
    func joined(_ name: String) {
        lock.withLock { log.append(Entry(seconds: elapsed, text: "grow: \(name) starts and joins")) }
    }

    /// Logs something that happened during a fault (not a fault of its own).
    func remark(_ what: String) {
        lock.withLock { log.append(Entry(seconds: elapsed, text: what)) }
    }

    /// Seconds since `started`.
    private var elapsed: Double { Double((ContinuousClock.now - started).wholeNanoseconds) / 1e9 }

    struct Entry: CustomStringConvertible {
        var seconds: Double
        var text: String
        var description: String { String(format: "%7.2fs  ", seconds) + text }
    }

    func later(_ body: @escaping @Sendable () async -> Void) {
        let t = Task { await body() }
        lock.withLock { tasks.append(t) }
    }

    func seconds(_ r: ClosedRange<Double>) -> UInt64 { UInt64(Double.random(in: r, using: &rng) * 1e9) }

    private func inject(_ kind: Kind) async {
        let statuses = await fleet.statuses()
        func index(role: String) -> Int? {
            // A server of several chains has a role in each: any of them counts.
            let matches = statuses.enumerated().filter { $0.element?.chainStates.contains { $0.role == role } == true }.map(\.offset)
            return matches.isEmpty ? nil : matches.randomElement(using: &rng)
        }
        switch kind {
        case .killHead, .killMiddle, .killTail, .killLeader:
            let target: Int?
            switch kind {
            case .killHead: target = index(role: "head") ?? index(role: "single")
            case .killMiddle: target = index(role: "middle")
            case .killTail: target = index(role: "tail") ?? index(role: "single")
            default: target = statuses.firstIndex { $0?.isLeader == true }
            }
            guard let i = target, claim([fleet.servers[i].name]) else { return }
            let s = fleet.servers[i]
            s.heldDown = true
            s.signal(SIGKILL)
            note(kind, "\(kind.rawValue): SIGKILL \(s.name)")
            let down = seconds(0.3...2.5)
            later {
                try? await Task.sleep(nanoseconds: down)
                s.heldDown = false
                try? s.start()
                self.release([s.name])
            }
        case .pause:
            let i = Int.random(in: 0..<fleet.servers.count, using: &rng)
            let s = fleet.servers[i]
            guard s.isRunning, claim([s.name]) else { return }
            s.heldDown = true
            s.signal(SIGSTOP)
            let pause = UInt64(fleet.sessionTimeoutMs) * 1_000_000 + seconds(0.3...1.5)
            note(kind, "pause: SIGSTOP \(s.name) for \(pause / 1_000_000) ms")
            later {
                try? await Task.sleep(nanoseconds: pause)
                s.signal(SIGCONT)
                s.heldDown = false  // it exits if its session expired; the supervisor restarts it
                self.release([s.name])
            }
        case .killZooKeeper:
            let i = Int.random(in: 0..<ensemble.servers.count, using: &rng)
            let z = ensemble.servers[i]
            // Only one ZooKeeper server down at a time: the ensemble keeps its quorum.
            guard claim(["zk"]) else { return }
            z.signal(SIGKILL)
            note(kind, "kill ZooKeeper: SIGKILL \(z.name)")
            let down = seconds(1.0...4.0)
            later {
                try? await Task.sleep(nanoseconds: down)
                try? z.start()
                self.release(["zk"])
            }
        case .bulkRestart:
            let survivor = Int.random(in: 0..<fleet.servers.count, using: &rng)
            let victims = fleet.servers.indices.filter { $0 != survivor }.map { fleet.servers[$0] }
            guard claim(victims.map(\.name)) else { return }
            for v in victims { v.heldDown = true; v.signal(SIGKILL) }
            note(kind, "restart all but one: SIGKILL \(victims.map(\.name).joined(separator: ",")), \(fleet.servers[survivor].name) stays")
            let down = seconds(0.3...2.0)
            later {
                try? await Task.sleep(nanoseconds: down)
                for v in victims { v.heldDown = false; try? v.start() }
                self.release(victims.map(\.name))
            }
        case .diskEIO: injectEIO()
        case .damagedFile: await injectDamage()
        case .slowDisk: injectSlowDisk()
        case .diskFull: injectDiskFull()
        case .cutPair, .cutOneWay, .cutHeadSuccessor, .isolateLeader, .cutClients, .flapLink: await injectCut(kind, statuses)
        case .partition:
            let i = Int.random(in: 0..<fleet.servers.count, using: &rng)
            let s = fleet.servers[i]
            guard claim([s.name]) else { return }
            fleet.partition(i)
            let cut = UInt64(fleet.sessionTimeoutMs) * 1_000_000 + seconds(0.3...1.5)
            note(kind, "partition: \(s.name) cut off from ZooKeeper for \(cut / 1_000_000) ms")
            later {
                try? await Task.sleep(nanoseconds: cut)
                self.fleet.heal(i)
                self.release([s.name])
            }
        }
    }
}

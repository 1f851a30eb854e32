import ChainKV
import ChainCore
import ChainStorage
import ChainWire
import Foundation

extension NodeStatus {
    /// Where the server stands in each chain: the chains of a sharded cluster, or the one chain.
    var chainStates: [ChainStatus] {
        chains.isEmpty ? [ChainStatus(chain: "c0", epoch: epoch, role: role, received: received, durable: durable, stable: stable,
                                      inflight: inflight)] : chains
    }
}

/// The checks of a run that look at every chain: formed and whole, quiet, converged.
extension TortureRun {
    /// Members of each chain that act in it (role other than outside), by chain id.
    func inChain(_ statuses: [NodeStatus?]) -> [String: [ChainStatus]] {
        var result: [String: [ChainStatus]] = [:]
        for s in statuses.compactMap({ $0 }) {
            for c in s.chainStates where c.role != "outside" { result[c.chain, default: []].append(c) }
        }
        return result
    }

    /// Every chain whole: `fleet.chains` chains (one per server when sharded with 0), each with
    /// `fleet.replicas` members in one epoch.
    func waitForChains(_ fleet: Fleet, timeout: TimeInterval) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        let expected = fleet.chains == 0 ? fleet.active : fleet.chains
        while Date() < deadline {
            fleet.supervise()
            let chains = inChain(await fleet.statuses())
            if chains.count == expected,
               chains.values.allSatisfy({ $0.count == fleet.replicas && Set($0.map(\.epoch)).count == 1 }) {
                return true
            }
            try? await Task.sleep(nanoseconds: 300_000_000)
        }
        return false
    }

    /// Every chain owns its even share of the slots and every server holds as many replicas as
    /// another (growth done): no slot move or replica move left to make.
    func waitForSpread(_ fleet: Fleet, timeout: TimeInterval) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        guard let kv = try? ChainKVClient(servers: fleet.addresses, options: Workload.options()) else { return false }
        defer { kv.beginShutdown() }
        while Date() < deadline {
            fleet.supervise()
            if let map = try? await kv.shards(), map.chains.count == fleet.active {
                let share = SlotMap.even(chains: map.chains.map(\.id)).counts
                let owned = Dictionary(uniqueKeysWithValues: map.chains.map { ($0.id, $0.slots.reduce(0) { $0 + $1.count }) })
                let load = map.chains.flatMap { $0.chain.members.map(\.id) }.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
                if owned == share, Set(load.values).count == 1, load.count == fleet.active { return true }
            }
            try? await Task.sleep(nanoseconds: 300_000_000)
        }
        return false
    }

    /// Nothing in flight in any chain, and every member of a chain holds the same updates.
    func waitForQuiet(_ fleet: Fleet, timeout: TimeInterval) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let statuses = await fleet.statuses()
            if statuses.allSatisfy({ $0 != nil }), inChain(statuses).values.allSatisfy({ members in
                members.allSatisfy { $0.inflight == 0 && $0.stable == $0.received } && Set(members.map(\.received)).count == 1
            }) {
                return true
            }
            try? await Task.sleep(nanoseconds: 200_000_000)
        }
        return false
    }

    /// Every replica of a chain holds the same rows, and together they hold what the final reads
    /// returned. The single chain's file is chainkv.sqlite; a sharded chain's chainkv-<id>.sqlite.
    /// With a slot map (`owners`), a chain's rows of slots it does not own (left by a donor whose
    /// cleanup after a move failed: unread, and purged before any import) are not counted.
    func checkConvergence(_ fleet: Fleet, finals: [String: [UInt8]?], owners: SlotMap? = nil, _ report: inout RunReport) {
        var files: [String: [URL]] = [:]
        for d in fleet.dataDirs {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []
            for name in names where name.hasPrefix("chainkv") && name.hasSuffix(".sqlite") {
                files[name, default: []].append(d.appendingPathComponent(name))
            }
        }
        var union: [String: [UInt8]] = [:]
        report.converged = !files.isEmpty
        for (name, urls) in files.sorted(by: { $0.key < $1.key }) {
            let rows = urls.map { url -> [(key: String, value: [UInt8])]? in
                guard let store = try? Store(path: url.path) else { return nil }
                defer { store.close() }
                let chain = String(name.dropFirst("chainkv-".count).dropLast(".sqlite".count))
                return (try? store.allRows(limit: 1_000_000))?.filter { owners == nil || owners!.chain(of: $0.key) == chain }
            }
            let reference = rows.compactMap { $0 }.first ?? []
            let same = urls.count == fleet.replicas && rows.allSatisfy { r in
                guard let r else { return false }
                return r.count == reference.count && zip(r, reference).allSatisfy { $0.key == $1.key && $0.value == $1.value }
            }
            if !same {
                report.converged = false
                report.problems.append("replicas of \(name) differ (\(urls.count) files)")
            }
            for row in reference { union[row.key] = row.value }
        }
        if union != finals.compactMapValues({ $0 }) {
            report.problems.append("replica rows differ from the final reads")
        }
    }
}

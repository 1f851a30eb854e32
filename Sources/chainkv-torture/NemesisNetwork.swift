import ChainWire
import Foundation

/// Partitions between servers: nft rules on the servers' own loopback addresses (`Fleet.net`,
/// `NetworkCuts`), each taken away after a bounded time drawn from the seed. ZooKeeper is never
/// cut here (servers reach it from 127.0.0.1 through their proxies; "partition from ZooKeeper" is
/// its own kind), and clients only by `cutClients`. Every random draw of a fault happens before
/// its delayed part, so a seed replays the same schedule (as with the other kinds, a draw whose
/// target is busy or down is skipped).
extension Nemesis {
    /// How long a cut lasts: from below the heartbeat timeout (1.5 s: perhaps nobody acts) to
    /// well past it.
    static let cutSeconds = 1.0...6.0
    /// A flapping link: cut and healed in turns of 100–400 ms each, for 2–5 s.
    static let flapSeconds = 2.0...5.0
    static let flapPhaseSeconds = 0.1...0.4

    /// Servers started (a growth run's sixth is not, until it joins).
    private var startedServers: [Int] { fleet.servers.indices.filter { !fleet.reserved.contains($0) } }

    /// Two different started servers, drawn from the seed.
    private func twoServers() -> (Int, Int)? {
        let started = startedServers
        guard started.count >= 2 else { return nil }
        let a = started.randomElement(using: &rng)!
        let b = started.filter { $0 != a }.randomElement(using: &rng)!
        return (a, b)
    }

    private func ms(_ nanos: UInt64) -> UInt64 { nanos / 1_000_000 }

    func injectCut(_ kind: Kind, _ statuses: [NodeStatus?]) async {
        guard let net = fleet.net else { return }
        let hosts = fleet.hosts
        let names = fleet.servers.map(\.name)
        let duration = seconds(Self.cutSeconds)
        /// Heals with `heal` after `duration`, remarks it, releases `claimed`.
        func healLater(_ claimed: [String], _ what: String, _ heal: @escaping @Sendable () -> Void) {
            later {
                try? await Task.sleep(nanoseconds: duration)
                heal()
                self.remark("healed: \(what)")
                self.release(claimed)
            }
        }
        switch kind {
        case .cutPair:
            guard let (a, b) = twoServers(), claim([names[a], names[b]]) else { return }
            net.cutBoth(hosts[a], hosts[b])
            let what = "\(names[a]) <-> \(names[b])"
            note(kind, "cut two servers apart: \(what) (\(hosts[a]), \(hosts[b])) for \(ms(duration)) ms")
            healLater([names[a], names[b]], what) { net.healBoth(hosts[a], hosts[b]) }
        case .cutOneWay:
            guard let (a, b) = twoServers(), claim([names[a], names[b]]) else { return }
            net.cut(hosts[a], hosts[b])
            let what = "\(names[a]) -> \(names[b])"
            note(kind, "one-way cut: packets \(what) (\(hosts[a]) -> \(hosts[b])) dropped for \(ms(duration)) ms")
            healLater([names[a], names[b]], what) { net.heal(hosts[a], hosts[b]) }
        case .cutHeadSuccessor:
            let chains = await fleet.chainMembers()
            let ids = chains.keys.sorted().filter { chains[$0]!.members.count >= 2 }
            guard let id = ids.randomElement(using: &rng), let info = chains[id],
                  let h = fleet.index(of: info.members[0].id), let s = fleet.index(of: info.members[1].id) else {
                remark("head cut from its successor: skipped, no chain of two or more members known")
                return
            }
            guard claim([names[h], names[s]]) else { return }
            net.cutBoth(hosts[h], hosts[s])
            let leader = statuses.firstIndex { $0?.isLeader == true }.map { names[$0] } ?? "unknown"
            let what = "\(names[h]) <-> \(names[s])"
            note(kind, "head cut from its successor: chain \(id) (epoch \(info.epoch)) head \(names[h]) <-> successor \(names[s]), "
                     + "leader \(leader), for \(ms(duration)) ms")
            healLater([names[h], names[s]], what) { net.healBoth(hosts[h], hosts[s]) }
        case .isolateLeader:
            guard let l = statuses.firstIndex(where: { $0?.isLeader == true }), claim([names[l]]) else { return }
            let others = hosts.indices.filter { $0 != l }
            for o in others { net.cutBoth(hosts[l], hosts[o]) }
            let what = "leader \(names[l]) <-> every other server"
            note(kind, "leader cut from its peers: \(what) (ZooKeeper and clients still reach it) for \(ms(duration)) ms")
            healLater([names[l]], what) { for o in others { net.healBoth(hosts[l], hosts[o]) } }
        case .cutClients:
            guard let i = startedServers.randomElement(using: &rng), claim([names[i]]) else { return }
            let client = NetworkCuts.clientHost
            net.cutBoth(hosts[i], client)
            let what = "\(names[i]) <-> clients (\(client))"
            note(kind, "server cut from its clients: \(what) (peers and ZooKeeper still reach it) for \(ms(duration)) ms")
            healLater([names[i]], what) { net.healBoth(hosts[i], client) }
        case .flapLink:
            let total = Double.random(in: Self.flapSeconds, using: &rng)
            var phases: [UInt64] = []
            var sum = 0.0
            while sum < total {
                let phase = Double.random(in: Self.flapPhaseSeconds, using: &rng)
                phases.append(UInt64(phase * 1e9))
                sum += phase
            }
            guard let (a, b) = twoServers(), claim([names[a], names[b]]) else { return }
            let what = "\(names[a]) <-> \(names[b])"
            note(kind, "flapping link: \(what) cut and healed in \(phases.count) turns of 100–400 ms over \(Int(sum * 1000)) ms")
            let (ha, hb, turns) = (hosts[a], hosts[b], phases)
            later {
                for (k, phase) in turns.enumerated() {
                    if k % 2 == 0 { net.cutBoth(ha, hb) } else { net.healBoth(ha, hb) }
                    try? await Task.sleep(nanoseconds: phase)
                }
                if turns.count % 2 == 1 { net.healBoth(ha, hb) }
                self.remark("healed: flapping link \(what)")
                self.release([names[a], names[b]])
            }
        default:
            return
        }
    }
}

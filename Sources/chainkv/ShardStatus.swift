import ChainKV
import ChainWire
import Foundation

/// `chainkv status` of a sharded cluster: one row per chain (its slots, members head first,
/// epoch, and how far its last member trails its head), then one row per server (where it stands
/// in each of its chains). Members that do not answer are marked "(failed)".
struct ShardStatus {
    var map: ShardMap
    var leader: String?
    /// Every server's address and its answer (nil: unreachable), by id.
    var servers: [(id: String, address: String, status: NodeStatus?)]

    /// A chain's lag: the head's received sequence minus the lowest durable one of its members.
    func lag(_ shard: ShardMap.Shard) -> UInt64? {
        let states = shard.chain.members.map { m in answer(m.id)?.chains.first { $0.chain == shard.id } }
        guard let head = states.first ?? nil else { return nil }
        let durable = states.compactMap { $0?.durable }.min() ?? head.durable
        return head.received > durable ? head.received - durable : 0
    }

    func answer(_ id: String) -> NodeStatus? {
        servers.first { $0.id == id }?.status
    }

    func members(_ shard: ShardMap.Shard) -> [String] {
        shard.chain.members.map { answer($0.id) == nil ? "\($0.id)(failed)" : $0.id }
    }

    /// - Parameter extra: more fields of the object (health).
    func printJSON(_ extra: [String: Any?] = [:]) {
        let chains: [[String: Any?]] = map.chains.map { s in
            ["id": s.id, "slots": s.slots.reduce(0) { $0 + $1.count }, "ranges": s.slots.map { [$0.lowerBound, $0.upperBound] },
             "epoch": s.chain.epoch, "members": s.chain.members.map(\.id), "failed": s.chain.members.map(\.id).filter { answer($0) == nil },
             "lag": lag(s)]
        }
        let nodes: [[String: Any?]] = servers.map { n in
            ["id": n.id, "address": n.address, "leader": n.id == leader, "uptimeMs": n.status?.uptimeMs,
             "chains": n.status.map { $0.chains.map { ["chain": $0.chain, "role": $0.role, "epoch": $0.epoch, "applied": $0.durable] } }]
        }
        chainkv.printJSON(["mapVersion": map.version, "leader": leader,
                           "chains": chains.map { $0.mapValues { $0 ?? NSNull() } },
                           "nodes": nodes.map { $0.mapValues { $0 ?? NSNull() } }].merging(extra) { a, _ in a })
    }

    func printTables() {
        print("slot map version \(map.version), \(map.chains.count) chains" + (leader.map { "   leader: \($0)" } ?? ""))
        var chains = [["CHAIN", "SLOTS", "MEMBERS (head first)", "EPOCH", "LAG"]]
        for s in map.chains {
            chains.append([s.id, "\(s.slots.reduce(0) { $0 + $1.count })", members(s).joined(separator: " -> "), "\(s.chain.epoch)",
                           lag(s).map { "\($0)" } ?? "-"])
        }
        printTable(chains)
        print("")
        var nodes = [["ID", "ADDRESS", "CHAINS", "UPTIME", ""]]
        for n in servers {
            let roles = n.status.map { $0.chains.map { "\($0.chain):\($0.role)" }.joined(separator: " ") } ?? "unreachable"
            nodes.append([n.id, n.address, roles.isEmpty ? "-" : roles, n.status.map { Status.duration($0.uptimeMs) } ?? "-",
                          n.id == leader ? "*" : ""])
        }
        printTable(nodes)
    }
}

/// Prints rows as columns padded to their widest cell.
func printTable(_ table: [[String]]) {
    guard let header = table.first else { return }
    let widths = (0..<header.count).map { c in table.map { $0[c].count }.max()! + 2 }
    for line in table {
        print(line.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined())
    }
}

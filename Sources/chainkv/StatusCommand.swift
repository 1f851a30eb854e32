import ArgumentParser
import ChainCoordination
import ChainKV
import ChainWire
import Foundation
import NIOPosix

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the chain in order (head first), joining and failed servers, and the leader.",
        discussion: """
        Reads the chain, the members and the election from ZooKeeper (when it knows where ZooKeeper
        is) and asks every server for its own view. Columns: ID, ADDRESS, ROLE (head, middle, tail,
        head+tail, joining: registered but not yet in the chain, failed: in the chain but not
        answering; "+syncing": joined, still being caught up on what committed before), EPOCH (the server's), APPLIED (last sequence number on its disk), LAG (how far
        it trails what the head has), UPTIME, and * for the leader.
        """)
    @OptionGroup var server: ServerOptions
    @Option(help: "ZooKeeper connect string (default: $CHAINKV_ZK or the config file's).") var zookeeper: String?
    @Option(help: "Cluster name (default: the config file's, else local).") var cluster: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    struct Row {
        var id: String
        var address: String
        var role: String
        var status: NodeStatus?
    }

    func run() async throws {
        let file = server.file
        let zk = zookeeper ?? ProcessInfo.processInfo.environment["CHAINKV_ZK"] ?? file.zookeeper
        var chainIDs: [String] = []
        var syncing: Set<String> = []
        var epoch: UInt64 = 0
        var leader: String?
        var addresses: [(id: String, address: String)] = []
        if let zk {
            do {
                let coordinator = try await Coordinator.connect(to: zk, cluster: cluster ?? file.cluster ?? "local",
                                                                nodeID: "status-cli", sessionTimeout: .seconds(4), connectTimeout: .seconds(3))
                defer { Task { await coordinator.close() } }
                if let (config, _) = try await coordinator.readChain() {
                    chainIDs = config.members
                    syncing = Set(config.syncing)
                    epoch = config.epoch
                    addresses = config.members.map { ($0, config.addresses[$0] ?? "?") }
                }
                leader = try await coordinator.leaderID()
                for m in try await coordinator.liveMembers() where !addresses.contains(where: { $0.id == m.id }) {
                    addresses.append((m.id, m.address))
                }
            } catch {
                fail(ChainKVError.network("ZooKeeper at \(zk): \(error)"))
            }
        } else {
            let info = try await server.withClient { try await $0.chain() }
            chainIDs = info.members.map(\.id)
            epoch = info.epoch
            addresses = info.members.map { ($0.id, $0.hostPort) }
        }
        var rows: [Row] = []
        let security = server.security
        for (id, address) in addresses {
            let status = await Self.ask(address, security: security)
            let role: String
            if status == nil {
                role = chainIDs.contains(id) ? "failed" : "unreachable"
            } else if !chainIDs.contains(id) {
                role = "joining"
            } else {
                role = (status!.role == "single" ? "head+tail" : status!.role == "outside" ? "joining" : status!.role)
                    + (syncing.contains(id) ? "+syncing" : "")
            }
            rows.append(Row(id: id, address: address, role: role, status: status))
        }
        let headReceived = rows.first { $0.id == chainIDs.first }?.status?.received
        func lag(_ r: Row) -> UInt64? {
            guard let h = headReceived, let s = r.status else { return nil }
            return h > s.durable ? h - s.durable : 0
        }
        if json {
            let nodes: [[String: Any?]] = rows.map { r in
                ["id": r.id, "address": r.address, "role": r.role, "epoch": r.status?.epoch, "applied": r.status?.durable,
                 "lag": lag(r), "uptimeMs": r.status?.uptimeMs, "leader": r.id == leader]
            }
            printJSON(["epoch": epoch, "leader": leader, "chain": chainIDs, "nodes": nodes.map { $0.mapValues { $0 ?? NSNull() } }])
            return
        }
        print("chain epoch \(epoch): \(chainIDs.joined(separator: " -> "))" + (leader.map { "   leader: \($0)" } ?? ""))
        let header = ["ID", "ADDRESS", "ROLE", "EPOCH", "APPLIED", "LAG", "UPTIME", ""]
        var table = [header]
        for r in rows {
            table.append([r.id, r.address, r.role, r.status.map { "\($0.epoch)" } ?? "-", r.status.map { "\($0.durable)" } ?? "-",
                          lag(r).map { "\($0)" } ?? "-", r.status.map { Self.duration($0.uptimeMs) } ?? "-", r.id == leader ? "*" : ""])
        }
        let widths = (0..<header.count).map { c in table.map { $0[c].count }.max()! + 2 }
        for line in table {
            print(line.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined())
        }
    }

    static func ask(_ address: String, security: ConnectionSecurity) async -> NodeStatus? {
        guard let parsed = NodeAddress(id: address, parsing: address) else { return nil }
        guard let c = try? await Connection.connect(host: parsed.host, port: parsed.port,
                                                    group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(1),
                                                    security: security) else { return nil }
        defer { c.close() }
        guard case .statusReply(let s)? = try? await c.request(.status, timeout: .seconds(2)) else { return nil }
        return s
    }

    static func duration(_ ms: UInt64) -> String {
        let s = ms / 1000
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        return "\(s / 3600)h"
    }
}

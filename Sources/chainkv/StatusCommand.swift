import ArgumentParser
import ChainCoordination
import ChainCore
import ChainKV
import ChainWire
import Foundation
import NIOPosix

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the chain in order (head first), joining and failed servers, and the leader.",
        discussion: """
        With keys sharded over several chains: one row per chain (CHAIN, SLOTS it owns, MEMBERS head
        first with "(failed)" on those not answering, EPOCH, LAG: how far its last member trails its
        head), then one row per server with its role in each of its chains.
        One chain:
        Reads the chain, the members and the election from ZooKeeper (when it knows where ZooKeeper
        is) and asks every server for its own view. Columns: ID, ADDRESS, ROLE (head, middle, tail,
        head+tail, joining: registered but not yet in the chain, failed: in the chain but not
        answering; "+syncing": joined, still being caught up on what committed before), EPOCH (the server's), APPLIED (last sequence number on its disk), LAG (how far
        it trails what the head has), UPTIME, and * for the leader.
        Without ZooKeeper (none given, or it does not answer) it shows the chains as the servers
        report them, and marks the leader by asking each server.

        Healthy means: every chain member and every registered server answers, at least --expect
        servers answer, and ZooKeeper (when given) answers. Otherwise status still prints the view,
        then one line "chainkv: unhealthy: ..." on stderr (with --json: "healthy": false and
        "problems"), and exits 5.

        Examples:
          chainkv status
          chainkv status --zookeeper 127.0.0.1:2181 --cluster local
          chainkv status --expect 5 || alert "chainkv degraded"
          chainkv status --json | jq '.nodes[] | select(.role == "failed")'

        Exit codes: 0 healthy, 2 usage error, 3 no server reachable, 5 unhealthy.
        """)
    @OptionGroup var server: ServerOptions
    @Option(help: "ZooKeeper connect string (default: $CHAINKV_ZK or the config file's).") var zookeeper: String?
    @Option(help: "Cluster name (default: the config file's, else local).") var cluster: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Option(help: "Servers that should be live; fewer answering is unhealthy (exit 5).") var expect: Int?

    func validate() throws {
        if let expect, !(1...StatusHealth.expectMax).contains(expect) {
            throw ValidationError("--expect must be 1-\(StatusHealth.expectMax)")
        }
    }

    struct Row {
        var id: String
        var address: String
        var role: String
        var status: NodeStatus?
    }

    func run() async throws {
        let file = server.file
        let env = ProcessInfo.processInfo.environment["CHAINKV_ZK"].flatMap { $0.isEmpty ? nil : $0 }
        let zk = zookeeper ?? env ?? file.zookeeper
        var chainIDs: [String] = []
        var syncing: Set<String> = []
        var epoch: UInt64 = 0
        var leader: String?
        var addresses: [(id: String, address: String)] = []
        var shards: ShardMap?
        var problems: [String] = []
        var zooKeeperRead = false
        if let zk {
            do {
                let coordinator = try await Coordinator.connect(to: zk, cluster: cluster ?? file.cluster ?? "local",
                                                                nodeID: "status-cli", sessionTimeout: .seconds(4), connectTimeout: .seconds(3))
                defer { Task { await coordinator.close() } }
                if let (slots, _) = try await coordinator.readSlots() {
                    let stored = try await coordinator.readShards()
                    shards = ShardMap(slots) { id in
                        stored[id].map { c, _ in
                            ChainInfo(epoch: c.epoch, members: c.members.map {
                                NodeAddress(id: $0, parsing: c.addresses[$0] ?? "") ?? NodeAddress(id: $0, host: "?", port: 1)
                            })
                        }
                    }
                    for c in stored.values.map(\.0) { for id in c.members where !addresses.contains(where: { $0.id == id }) {
                        addresses.append((id, c.addresses[id] ?? "?"))
                    } }
                } else if let (config, _) = try await coordinator.readChain() {
                    chainIDs = config.members
                    syncing = Set(config.syncing)
                    epoch = config.epoch
                    addresses = config.members.map { ($0, config.addresses[$0] ?? "?") }
                }
                leader = try await coordinator.leaderID()
                for m in try await coordinator.liveMembers() where !addresses.contains(where: { $0.id == m.id }) {
                    addresses.append((m.id, m.address))
                }
                zooKeeperRead = true
            } catch {
                let why = StatusHealth.zooKeeperProblem(zk, error)
                problems.append(why)
                if !json { FileHandle.standardError.write(Data("chainkv: \(why); asking the servers instead\n".utf8)) }
                (chainIDs, syncing, epoch, leader, addresses, shards) = ([], [], 0, nil, [], nil)
            }
        }
        if !zooKeeperRead {
            let map = try await server.withClient { try await $0.shards() }
            if map.version > 0 {
                shards = map
                for m in map.chains.flatMap(\.chain.members) where !addresses.contains(where: { $0.id == m.id }) {
                    addresses.append((m.id, m.hostPort))
                }
            } else if let info = map.chains.first?.chain {
                chainIDs = info.members.map(\.id)
                epoch = info.epoch
                addresses = info.members.map { ($0.id, $0.hostPort) }
            }
        }
        if let shards {
            var answers: [(id: String, address: String, status: NodeStatus?)] = []
            for (id, address) in addresses.sorted(by: { Leader.chainOrder($0.id, $1.id) }) {
                answers.append((id, address, await Self.ask(address, security: server.security)))
            }
            if leader == nil { leader = answers.first { $0.status?.isLeader == true }?.id }
            let view = ShardStatus(map: shards, leader: leader, servers: answers)
            let health = StatusHealth(problems: problems + answers.filter { $0.status == nil }.map { "\($0.id) (\($0.address)) not answering" },
                                      live: answers.filter { $0.status != nil }.count, expect: expect)
            if json { view.printJSON(health.jsonFields) } else { view.printTables() }
            health.finish(json: json)
            return
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
        if leader == nil { leader = rows.first { $0.status?.isLeader == true }?.id }
        let health = StatusHealth(problems: problems + rows.compactMap { r in
            switch r.role {
            case "failed": return "\(r.id) (\(r.address)) failed: in the chain but not answering"
            case "unreachable": return "\(r.id) (\(r.address)) unreachable: registered but not answering"
            default: return nil
            }
        }, live: rows.filter { $0.status != nil }.count, expect: expect)
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
            printJSON(["epoch": epoch, "leader": leader, "chain": chainIDs, "nodes": nodes.map { $0.mapValues { $0 ?? NSNull() } }]
                .merging(health.jsonFields) { a, _ in a })
            health.finish(json: true)
            return
        }
        print("chain epoch \(epoch): \(chainIDs.joined(separator: " -> "))" + (leader.map { "   leader: \($0)" } ?? ""))
        let header = ["ID", "ADDRESS", "ROLE", "EPOCH", "APPLIED", "LAG", "UPTIME", ""]
        var table = [header]
        for r in rows {
            table.append([r.id, r.address, r.role, r.status.map { "\($0.epoch)" } ?? "-", r.status.map { "\($0.durable)" } ?? "-",
                          lag(r).map { "\($0)" } ?? "-", r.status.map { Self.duration($0.uptimeMs) } ?? "-", r.id == leader ? "*" : ""])
        }
        printTable(table)
        health.finish(json: false)
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

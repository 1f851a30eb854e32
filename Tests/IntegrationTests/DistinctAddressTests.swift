import ChainKV
import Foundation
import XCTest

/// Nothing assumes 127.0.0.1: five servers on 127.0.1.1 … 127.0.1.5, two of them listening on
/// every interface (0.0.0.0) and advertising their own address, three listening on their address
/// only; their metrics endpoints on addresses of their own too.
final class DistinctAddressTests: XCTestCase {
    static let hosts: [Int: ClusterFixture.ServerHosts] = [
        0: .init(listen: "0.0.0.0", advertised: "127.0.1.1", metrics: "127.0.1.1"),
        1: .init(listen: "0.0.0.0", advertised: "127.0.1.2", metrics: "127.0.1.2"),
        2: .init(listen: "127.0.1.3"),
        3: .init(listen: "127.0.1.4", advertised: "127.0.1.4"),
        4: .init(listen: "127.0.1.5", metrics: "127.0.1.15"),
    ]

    func testAClusterOnDistinctLoopbackAddressesServesReadsAndWrites() throws {
        let cluster = try ClusterFixture(size: 5, chains: 0, hosts: Self.hosts)
        defer { cluster.stop() }
        XCTAssertEqual(cluster.servers, (1...5).map { "127.0.1.\($0):\(cluster.nodes[$0 - 1].port)" })

        // Every chain's members are known by their advertised addresses, never 127.0.0.1 or 0.0.0.0.
        let map = try cluster.shards()
        XCTAssertEqual(map.chains.count, 5)
        for shard in map.chains {
            for member in shard.chain.members {
                let i = try XCTUnwrap(Int(member.id.dropFirst())) - 1
                XCTAssertEqual("\(member.host):\(member.port)", cluster.address(i), "chain \(shard.id): \(member)")
            }
        }

        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        for i in 0..<100 { _ = try blockingTest { try await client.put("addr\(i)", Array("value \(i)".utf8)) } }
        for i in 0..<100 { XCTAssertEqual(try blockingTest { try await client.get("addr\(i)") }, Array("value \(i)".utf8)) }

        // A server listening on its own address only is not reachable at 127.0.0.1 (curl: 7,
        // could not connect); at its address it answers (with bytes that are not HTTP).
        for i in 2...4 {
            let port = cluster.nodes[i].port
            XCTAssertEqual(try Self.curl("http://127.0.0.1:\(port)/").status, 7, "n\(i + 1) listens on 127.0.1.\(i + 1) only")
            XCTAssertNotEqual(try Self.curl("http://\(cluster.address(i))/").status, 7, "n\(i + 1) listens on \(cluster.address(i))")
        }
        // Each metrics endpoint is where it was put, and reports the data written through it.
        for i in 0..<5 {
            let r = try Self.curl("http://\(cluster.metricsAddress(i))/metrics")
            XCTAssertEqual(r.status, 0, "n\(i + 1) metrics at \(cluster.metricsAddress(i)): \(r.output)")
            XCTAssertTrue(r.output.contains("chainkv_applied_seq{"), "n\(i + 1)")
        }
        XCTAssertEqual(try Self.curl("http://127.0.0.1:\(cluster.metricsPort(4))/metrics").status, 7, "n5's metrics on 127.0.1.15 only")

        // A server that fails over keeps its advertised address: kill one listening on 0.0.0.0,
        // let the chains repair, restart it, and every key is still there.
        cluster.kill(0)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try? cluster.shards())?.chains.contains(where: { $0.chain.members.contains { $0.id == "n1" } }) ?? true {
            usleep(200_000)
        }
        XCTAssertFalse(try cluster.shards().chains.contains { $0.chain.members.contains { $0.id == "n1" } }, "n1 dropped from every chain")
        try cluster.start(0)
        try cluster.waitForShards()
        let again = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { again.beginShutdown() }
        for i in 0..<100 { XCTAssertEqual(try blockingTest { try await again.get("addr\(i)") }, Array("value \(i)".utf8)) }
        for member in try cluster.shards().chains.flatMap(\.chain.members) where member.id == "n1" {
            XCTAssertEqual(member.host, "127.0.1.1")
        }
    }

    static func curl(_ url: String) throws -> (status: Int32, output: String) {
        try TestEnvironment.run("/usr/bin/curl", ["-sS", "-m", "3", url], timeout: 10)
    }
}

import ChainKV
import ChainTestSupport
import ChainWire
import Foundation
import NIOCore
import NIOPosix
import XCTest

/// No stale reads from a deposed head. The head loses ZooKeeper (a partition: it keeps running and
/// clients still reach it) and the chain moves on without it; it never hears that its session
/// expired, so only its read lease stops it from answering from its old state.
final class StaleReadTests: XCTestCase {
    func testHeadCutOffFromZooKeeperStopsServingReads() throws {
        var proxy: TCPProxy?
        // n1 heads the first chain (natural id order); it reaches ZooKeeper only through the proxy.
        let cluster = try ClusterFixture(size: 3) { zk in
            proxy = try TCPProxy(forwardingTo: zk)
            return [0: proxy!.connectString]
        }
        defer { cluster.stop(); proxy?.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        try blockingTest { try await client.put("k", Array("v1".utf8)) }
        let old = try cluster.chainInfo().head!
        XCTAssertEqual(old.id, "n1")
        let direct = try blockingTest {
            try await Connection.connect(host: old.host, port: old.port, group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(2))
        }
        defer { direct.close() }
        XCTAssertEqual(try blockingTest { try await direct.request(.get(key: "k"), timeout: .seconds(5)) }, .value(Array("v1".utf8)))

        proxy!.cutConnections()
        let others = Array(cluster.servers.dropFirst())
        let deadline = Date().addingTimeInterval(30)
        var moved = false
        while Date() < deadline && !moved {
            let c = try ChainKVClient(servers: others)
            moved = (try? blockingTest { try await c.chain() })?.head.map { $0.id != "n1" } ?? false
            c.beginShutdown()
            if !moved { usleep(200_000) }
        }
        XCTAssertTrue(moved, "the chain dropped the partitioned head")
        let rest = try ChainKVClient(servers: others)
        defer { rest.beginShutdown() }
        try blockingTest { try await rest.put("k", Array("v2".utf8)) }

        // The old head still runs and still believes it is the head of its last view.
        XCTAssertTrue(cluster.isRunning(0))
        let answer = try blockingTest { try await direct.request(.get(key: "k"), timeout: .seconds(5)) }
        XCTAssertNotEqual(answer, .value(Array("v1".utf8)), "the partitioned old head served a stale read")
        guard case .error(.unavailable, _) = answer else { return XCTFail("expected a refusal, got \(answer)") }
        XCTAssertEqual(try blockingTest { try await rest.get("k") }, Array("v2".utf8))
    }
}

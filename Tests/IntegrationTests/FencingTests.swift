import ChainCoordination
import ChainKV
import ChainWire
import Foundation
import XCTest

/// The leader fences a head it can no longer reach (its ZooKeeper session may live on) by deleting
/// the head's member znode; the head's next lease renewal sees that and it stops serving.
final class FencingTests: XCTestCase {
    /// The chain's head, its index in `cluster`, and a ZooKeeper session of the cluster's own to
    /// fence it with, as the leader would (the ZooKeeper credentials, if any, are the cluster's).
    func headAndObserver(_ cluster: ClusterFixture) throws -> (head: NodeAddress, index: Int, observer: Coordinator) {
        let head = try XCTUnwrap(try cluster.chainInfo().head)
        let observer = try blockingTest { [cluster] in
            try await Coordinator.connect(to: cluster.zookeeper, cluster: cluster.cluster, nodeID: "observer", sessionTimeout: .seconds(4))
        }
        return (head, Int(head.id.dropFirst())! - 1, observer)
    }

    /// Waits up to 10 s for server `index` to exit.
    func waitForExit(_ cluster: ClusterFixture, _ index: Int) {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && cluster.isRunning(index) { usleep(100_000) }
    }

    func testAHeadWhoseMemberZnodeIsDeletedStopsServingAndExits() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let (head, index, observer) = try headAndObserver(cluster)
        XCTAssertTrue(try blockingTest { try await observer.fence(member: head.id) })
        waitForExit(cluster, index)
        XCTAssertFalse(cluster.isRunning(index), "the fenced head exits within a lease renewal or two")
        XCTAssertTrue(cluster.log(index).contains("the leader fenced this server"), cluster.log(index))
        // The rest of the chain carries on without it.
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        XCTAssertNil(try blockingTest { try await client.put("after", Array("fence".utf8)) })
        XCTAssertEqual(try blockingTest { try await client.get("after") }, Array("fence".utf8))
    }

    /// A fence names the run it means: a newer run of the server, which registered its own member
    /// znode meanwhile (a server killed and restarted at once), keeps it and keeps serving.
    func testAFenceOfAnOlderRunLeavesTheNewerRunsZnode() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let (head, index, observer) = try headAndObserver(cluster)
        let run = try XCTUnwrap(try blockingTest { try await observer.liveMembers() }.first { $0.id == head.id }).incarnation
        XCTAssertTrue(try blockingTest { try await observer.fence(member: head.id, incarnation: "1970-01-01T00:00:00Z/1") },
                      "a run that no longer holds the znode: its lease must still be waited out")
        XCTAssertTrue(try blockingTest { try await observer.liveMembers() }.contains { $0.id == head.id && $0.incarnation == run },
                      "the newer run's znode stays")
        usleep(2_000_000)
        XCTAssertTrue(cluster.isRunning(index), "the newer run is not fenced")
        XCTAssertTrue(try blockingTest { try await observer.fence(member: head.id, incarnation: run) })
        waitForExit(cluster, index)
        XCTAssertFalse(cluster.isRunning(index), "the run named is fenced")
        XCTAssertFalse(try blockingTest { try await observer.fence(member: head.id, incarnation: run) }, "already gone")
    }
}

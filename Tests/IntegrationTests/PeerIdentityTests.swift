import ChainKV
import ChainTestSupport
import ChainWire
import Foundation
import NIOCore
import NIOPosix
import XCTest

/// Reconfiguration is taken only from the current leader and snapshots only from the current
/// tail, checked by epoch and node id.
final class PeerIdentityTests: XCTestCase {
    func testTransferRequestsFromAnyoneButTheLeaderAndSnapshotsIntoAMemberAreRefused() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        _ = try blockingTest { try await client.put("kept", Array("v".utf8)) }
        let info = try cluster.chainInfo()
        let tail = try XCTUnwrap(info.members.last), head = try XCTUnwrap(info.members.first)
        let group = MultiThreadedEventLoopGroup.singleton
        let c = try blockingTest { try await Connection.connect(host: tail.host, port: tail.port, group: group, timeout: .seconds(2)) }
        defer { c.close() }

        // The right epoch and the tail, but a sender that is not the leader: refused.
        let victim = NodeAddress(id: "victim", host: "127.0.0.1", port: LoopbackPorts.free())
        let start = try blockingTest { try await c.request(.startTransfer(epoch: info.epoch, leader: "intruder", to: victim), timeout: .seconds(10)) }
        guard case .error(.refused, let why) = start else { return XCTFail("expected a refusal, got \(start)") }
        XCTAssertTrue(why.contains("not the leader"), why)

        // A snapshot pushed into a member, even naming the real tail: refused, data unchanged.
        let h = try blockingTest { try await Connection.connect(host: head.host, port: head.port, group: group, timeout: .seconds(2)) }
        defer { h.close() }
        let push = try blockingTest {
            try await h.request(.dataTransfer(epoch: info.epoch, from: tail.id, lastSeq: 1, rows: [Row(key: "kept", value: [0])], done: true),
                                timeout: .seconds(10))
        }
        guard case .error(.refused, _) = push else { return XCTFail("expected a refusal, got \(push)") }
        let outcomes = try blockingTest {
            try await h.request(.outcomeTransfer(epoch: info.epoch, from: tail.id, lastSeq: 1, outcomes: []), timeout: .seconds(10))
        }
        guard case .error(.refused, _) = outcomes else { return XCTFail("expected a refusal, got \(outcomes)") }
        XCTAssertEqual(try blockingTest { try await client.get("kept") }, Array("v".utf8))
    }
}

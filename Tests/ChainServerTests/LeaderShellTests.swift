import ChainCoordination
import ChainCore
import ChainWire
import NIOCore
import NIOEmbedded
import XCTest
@testable import ChainServer

/// The leader shell driven without ZooKeeper or sockets: scripted coordination, scripted member
/// links, and the embedded loop's virtual clock for the fence wait.
final class LeaderShellTests: XCTestCase {
    var loop: EmbeddedEventLoop!
    var coordination: FakeCoordination!
    var links: FakeMemberLinks?
    let fenceWait = TimeAmount.milliseconds(375)
    let members = ["a", "b", "c"].enumerated().map { Shells.member($0.element, port: 7001 + $0.offset) }

    override func setUp() {
        loop = EmbeddedEventLoop()
        coordination = FakeCoordination()
        links = nil
    }

    /// Server `b`, elected with chain a -> b -> c (version 0) and every member heard from.
    func electedLeader() -> LeaderShell {
        let context = Shells.context(loop, id: "b")
        let dialer = LeaderDialer(members: { report in
            let links = FakeMemberLinks(loop: self.loop, report: report)
            self.links = links
            return links
        }, candidate: { _, _, _ in XCTFail("no candidate is watched here"); fatalError() })
        let shell = LeaderShell(id: "b", config: .init(leader: .init(expectedMembers: 3, formationTicks: 10, transferTicks: 1000, fenceTicks: 4)),
                                fenceWait: fenceWait, context: context, dialer: dialer)
        shell.coordination = coordination
        context.addresses.learn(members)
        let chain = ChainConfig(epoch: 1, members: ["a", "b", "c"], addresses: [:], leader: "b",
                                incarnations: LeaderShell.incarnations(members))
        shell.elected(chains: [ClusterLeader.soleChain: (chain, version: 0)], slots: nil, live: members)
        links?.heardFromAll()
        return shell
    }

    func testAnUnresponsiveHeadIsFencedAndDroppedOnlyAfterItsLeaseRanOut() throws {
        let shell = electedLeader()
        XCTAssertTrue(shell.isLeading)
        XCTAssertEqual(links?.members.keys.sorted(), ["a", "b", "c"])
        XCTAssertEqual(coordination.writes.count, 0, "the chain is whole")

        links?.report(.unresponsive("a"))
        XCTAssertEqual(coordination.fences.map(\.member), ["a"], "the head's znode is deleted first")
        coordination.fences[0].promise.succeed(true)
        loop.advanceTime(by: fenceWait - .milliseconds(1))
        XCTAssertEqual(coordination.writes.count, 0, "the old head may still hold a lease")
        loop.advanceTime(by: .milliseconds(1))

        let write = try XCTUnwrap(coordination.writes.first)
        XCTAssertEqual(write.config.epoch, 2)
        XCTAssertEqual(write.config.members, ["b", "c"])
        XCTAssertEqual(write.config.leader, "b")
        XCTAssertEqual(write.config.addresses, ["b": "127.0.0.1:7002", "c": "127.0.0.1:7003"])
        XCTAssertEqual(write.expectedVersion, 0)
        write.promise.succeed(.written(version: 1))
        XCTAssertEqual(coordination.writes.count, 1, "nothing more to do")
    }

    func testARestartedMemberRejoinsByTransferFromTheTail() throws {
        let shell = electedLeader()
        var restarted = members
        restarted[0] = MemberInfo(id: "a", host: "127.0.0.1", port: 7001, startedAt: "later", pid: 2)
        shell.membersChanged(restarted)
        let drop = try XCTUnwrap(coordination.writes.last)
        XCTAssertEqual(drop.config.members, ["b", "c"], "the old run of a leaves the chain")
        drop.promise.succeed(.written(version: 1))

        let transfer = try XCTUnwrap(links?.requests.first)
        XCTAssertEqual(transfer.member, "c", "the tail sends the snapshot")
        XCTAssertEqual(transfer.message, .startTransfer(epoch: 2, leader: "b", to: NodeAddress(id: "a", host: "127.0.0.1", port: 7001)))
        transfer.promise.succeed(.ack(epoch: 2, seq: 40))

        let splice = try XCTUnwrap(coordination.writes.last)
        XCTAssertEqual(splice.config.epoch, 3)
        XCTAssertEqual(splice.config.members, ["b", "c", "a"], "spliced in at the tail")
        XCTAssertEqual(splice.config.syncing, ["a"])
        XCTAssertEqual(splice.config.incarnations["a"], restarted[0].incarnation)
        XCTAssertEqual(splice.expectedVersion, 1)
    }

    func testAChainWriteThatLostARaceIsDecidedAgainFromTheStoredChain() throws {
        let shell = electedLeader()
        shell.membersChanged(Array(members.prefix(2)))  // the tail c is gone
        let first = try XCTUnwrap(coordination.writes.first)
        XCTAssertEqual(first.config.members, ["a", "b"])
        XCTAssertEqual(first.expectedVersion, 0)
        // Meanwhile the znode moved on (version 9, epoch 5): the write is refused.
        let stored = ChainConfig(epoch: 5, members: ["a", "b", "c"], addresses: [:], leader: "b",
                                 incarnations: LeaderShell.incarnations(members))
        first.promise.succeed(.conflict(current: (stored, version: 9)))
        shell.tick()
        let again = try XCTUnwrap(coordination.writes.last)
        XCTAssertEqual(coordination.writes.count, 2)
        XCTAssertEqual(again.config.epoch, 6, "decided from the stored chain, not from the lost write")
        XCTAssertEqual(again.config.members, ["a", "b"])
        XCTAssertEqual(again.expectedVersion, 9)
    }

    func testADeposedLeaderClosesItsLinksAndStopsActing() {
        let shell = electedLeader()
        shell.deposed()
        XCTAssertFalse(shell.isLeading)
        XCTAssertEqual(links?.closed, true)
        shell.tick()
        XCTAssertEqual(coordination.writes.count, 0)
    }
}

@testable import ChainCoordination
import XCTest

/// The leader's fence of a member znode against a real ZooKeeper, step by step: what it read, then
/// what happened before its delete.
final class FenceTests: ZooKeeperTestCase {
    func info(_ startedAt: String, pid: Int32) -> MemberInfo {
        MemberInfo(id: "n1", host: "127.0.0.1", port: 7001, startedAt: startedAt, pid: pid)
    }

    /// The leader's session, a run of n1 registered, and the leader's fence read of it.
    func observedRun(_ runInfo: MemberInfo) async throws -> (observer: Coordinator, run: Coordinator, target: Coordinator.FenceTarget) {
        let observer = try await coordinator("observer")
        let run = try await coordinator("n1")
        try await run.register(member: runInfo)
        let read = try await observer.fenceTarget("n1")
        let target = try XCTUnwrap(read)
        XCTAssertEqual(target.incarnation, runInfo.incarnation)
        return (observer, run, target)
    }

    /// Every registration moves the members folder's data version, in the same transaction as the create.
    func testEveryRegistrationMovesTheMembersFolderVersion() async throws {
        let observer = try await coordinator("observer")
        let first = try await coordinator("n1")
        try await first.register(member: info("2026-01-01T00:00:00.000Z", pid: 100))
        let afterFirst = try await observer.client.stat(observer.paths.members)
        let second = try await coordinator("n1")
        try await second.register(member: info("2026-01-01T00:00:05.000Z", pid: 200))  // replaces first's znode
        let afterSecond = try await observer.client.stat(observer.paths.members)
        XCTAssertEqual(try XCTUnwrap(afterSecond).version, try XCTUnwrap(afterFirst).version + 1)
        // Registering again on the same session keeps the znode and creates nothing.
        try await second.register(member: info("2026-01-01T00:00:05.000Z", pid: 200))
        let afterAgain = try await observer.client.stat(observer.paths.members)
        XCTAssertEqual(afterAgain?.version, afterSecond?.version)
    }

    /// The window a plain versioned delete left open: a new run replaces the znode after the fence
    /// read it (both znodes have data version 0). The new run keeps its znode.
    func testAZnodeCreatedAfterTheFenceReadIsNotDeleted() async throws {
        let oldInfo = info("2026-01-01T00:00:00.000Z", pid: 100)
        let (observer, _, target) = try await observedRun(oldInfo)
        XCTAssertEqual(target.version, 0)

        let new = try await coordinator("n1")
        let newInfo = info("2026-01-01T00:00:05.000Z", pid: 200)
        try await new.register(member: newInfo)
        let replaced = try await observer.client.stat(observer.paths.member("n1"))
        XCTAssertEqual(replaced?.version, 0, "same data version as the znode the fence read")

        let deleted = try await observer.deleteFenceTarget(target)
        XCTAssertNil(deleted, "refused: read again")
        let owner = try await observer.client.stat(observer.paths.member("n1"))?.ephemeralOwner
        XCTAssertEqual(owner, new.sessionID, "the new run keeps its znode")
        let newRunHolds = try await new.holdsMemberZnode()
        XCTAssertTrue(newRunHolds)

        // The whole fence of the old run reads again, finds the new run and leaves it.
        let fencedOld = try await observer.fence(member: "n1", incarnation: oldInfo.incarnation)
        XCTAssertTrue(fencedOld, "the old run's lease is waited out all the same")
        let stillHolds = try await new.holdsMemberZnode()
        XCTAssertTrue(stillHolds)

        // Fencing the new run deletes its znode; after that there is nothing to fence.
        let fencedNew = try await observer.fence(member: "n1", incarnation: newInfo.incarnation)
        XCTAssertTrue(fencedNew)
        let heldAfterFence = try await new.holdsMemberZnode()
        XCTAssertFalse(heldAfterFence)
        let again = try await observer.fence(member: "n1", incarnation: newInfo.incarnation)
        XCTAssertFalse(again, "nothing left to delete")
    }

    /// A znode that goes away between the fence's read and its delete (its session closed, or our
    /// own delete answered by a lost connection) may belong to a run still inside its lease: the
    /// fence says so, so that the leader waits.
    func testAZnodeGoneAfterTheFenceReadCountsAsFenced() async throws {
        let (observer, run, target) = try await observedRun(info("2026-01-01T00:00:00.000Z", pid: 100))
        await run.close()
        let deleted = try await observer.deleteFenceTarget(target)
        XCTAssertEqual(deleted, true)
        let missing = try await observer.fenceTarget("n1")
        XCTAssertNil(missing)
        // The delete above was sent by this coordinator: until a fence of n1 returns, a missing
        // znode may be its doing.
        let afterOurDelete = try await observer.fence(member: "n1")
        XCTAssertTrue(afterOurDelete)
        let nothingToFence = try await observer.fence(member: "n1")
        XCTAssertFalse(nothingToFence)
    }

    /// A delete of ours that was refused on a retry (the folder moved meanwhile) may still have
    /// gone through on the first try, whose answer a lost connection hid: a fence that then finds
    /// no znode says the lease must be waited out. Here the refusal is real and the znode went
    /// with its session, which the fence cannot tell apart from that case.
    func testAMissingZnodeAfterAFenceDeleteOfOursCountsAsFenced() async throws {
        let (observer, run, target) = try await observedRun(info("2026-01-01T00:00:00.000Z", pid: 100))
        await run.close()
        let other = try await coordinator("n2")
        try await other.register(member: MemberInfo(id: "n2", host: "127.0.0.1", port: 7002))  // moves the folder
        let refused = try await observer.deleteFenceTarget(target)
        XCTAssertNil(refused, "the folder's check fails first")
        let fenced = try await observer.fence(member: "n1")
        XCTAssertTrue(fenced, "the delete was in doubt: wait the lease out")
        let again = try await observer.fence(member: "n1")
        XCTAssertFalse(again, "a fence returned since: nothing of ours in doubt")
        let unrelated = try await observer.fence(member: "n3")
        XCTAssertFalse(unrelated)
    }

    /// The fence's delete reaches ZooKeeper and is applied, but its answer is lost with the
    /// connection: the retry on the next connection finds the znode gone, and the fence still says
    /// the run was fenced (the leader waits its lease out), never "there was nothing to fence".
    func testAFenceWhoseAnswerWasLostCountsAsFenced() async throws {
        let network = try proxy()
        let leader = try await coordinator("observer", via: network, sessionTimeout: .seconds(3))
        let run = try await coordinator("n1")
        try await run.register(member: info("2026-01-01T00:00:00.000Z", pid: 100))
        let read = try await leader.fenceTarget("n1")
        let target = try XCTUnwrap(read)
        network.loseAnswers()
        // Nothing answers the multi; the client drops the connection after its receive timeout
        // (about 2 s here) and the fence retries on a new one.
        let clock = ContinuousClock(), started = clock.now
        let deleted = try await leader.deleteFenceTarget(target)
        XCTAssertEqual(deleted, true)
        XCTAssertGreaterThan(clock.now - started, .seconds(1), "the answer was lost and the request retried")
        let holds = try await run.holdsMemberZnode()
        XCTAssertFalse(holds, "the first try deleted the znode")
        let fenced = try await leader.fence(member: "n1")
        XCTAssertTrue(fenced, "a delete of ours went through: the lease must be waited out")
    }

    /// A rewrite of the znode's data after the read (the run re-registering on its own session)
    /// also makes the fence read again rather than delete what it did not see.
    func testAZnodeRewrittenAfterTheFenceReadIsReadAgain() async throws {
        let runInfo = info("2026-01-01T00:00:00.000Z", pid: 100)
        let (observer, run, target) = try await observedRun(runInfo)
        try await run.client.setData(run.paths.member("n1"), data: try runInfo.encoded())
        let deleted = try await observer.deleteFenceTarget(target)
        XCTAssertNil(deleted)
        let fenced = try await observer.fence(member: "n1", incarnation: runInfo.incarnation)
        XCTAssertTrue(fenced)
        let holds = try await run.holdsMemberZnode()
        XCTAssertFalse(holds)
    }

    /// A member znode that changes between every read and delete of the fence (here the run
    /// rewrites it without pause, and the leader's link answers 50 ms late, so each read is stale
    /// by the time its delete arrives) makes the fence give up after `fenceAttemptsMax` reads with
    /// `contended`, deleting nothing; once the changes stop, the same fence succeeds.
    func testAFenceThatLosesEveryAttemptReportsContended() async throws {
        let network = try proxy()
        let leader = try await coordinator("observer", via: network)
        let run = try await coordinator("n1")
        let runInfo = info("2026-01-01T00:00:00.000Z", pid: 100)
        try await run.register(member: runInfo)
        let delayMs = 50
        network.delayAnswers(milliseconds: delayMs)
        let path = run.paths.member("n1"), data = try runInfo.encoded()
        let rewriter = Task {
            while !Task.isCancelled {
                try await run.client.setData(path, data: data)
            }
        }
        defer { rewriter.cancel() }
        // A fence that never gave up would wait forever on the rewrites: stopping them after 30 s
        // lets it succeed, and the test fail.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            rewriter.cancel()
        }
        defer { watchdog.cancel() }
        let clock = ContinuousClock(), started = clock.now
        do {
            _ = try await leader.fence(member: "n1")
            XCTFail("the fence should have lost every attempt")
        } catch let error as CoordinationError {
            XCTAssertEqual(error, .contended(path))
        }
        // Each attempt waits for three delayed answers (the folder, the znode, the refused delete).
        let attemptsFloor = Duration.milliseconds(Coordinator.fenceAttemptsMax * 3 * delayMs)
        XCTAssertGreaterThanOrEqual(clock.now - started, attemptsFloor, "gave up only after every attempt")
        rewriter.cancel()
        try await rewriter.value
        let stillHolds = try await run.holdsMemberZnode()
        XCTAssertTrue(stillHolds, "a fence that gave up deleted nothing")

        network.delayAnswers(milliseconds: 0)
        let fenced = try await leader.fence(member: "n1")
        XCTAssertTrue(fenced)
        let holds = try await run.holdsMemberZnode()
        XCTAssertFalse(holds)
    }
}

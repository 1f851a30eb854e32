import ChainCoordination
import XCTest

final class ElectionTests: ZooKeeperTestCase {
    func testExactlyOneLeaderAndTheNextTakesOverWhenItLeaves() async throws {
        let n1 = try await coordinator("n1")
        let n2 = try await coordinator("n2")
        let n3 = try await coordinator("n3")
        let events2 = EventRecorder(n2.events)
        let events3 = EventRecorder(n3.events)

        let led = [try await n1.joinElection(), try await n2.joinElection(), try await n3.joinElection()]
        XCTAssertEqual(led, [true, false, false])
        let leaders = [await n1.isLeader, await n2.isLeader, await n3.isLeader]
        XCTAssertEqual(leaders.filter { $0 }.count, 1)
        let firstLeader = try await n3.leaderID()
        XCTAssertEqual(firstLeader, "n1")

        await n1.close()
        try await events2.wait(for: "n2 becomes leader") { $0.contains(.becameLeader) }
        let n2Leads = await n2.isLeader
        let n3Leads = await n3.isLeader
        XCTAssertTrue(n2Leads)
        XCTAssertFalse(n3Leads)
        let secondLeader = try await n3.leaderID()
        XCTAssertEqual(secondLeader, "n2")
        XCTAssertFalse(events3.events.contains(.becameLeader))

        await n2.close()
        try await events3.wait(for: "n3 becomes leader") { $0.contains(.becameLeader) }
        let thirdLeader = try await n3.leaderID()
        XCTAssertEqual(thirdLeader, "n3")
    }

    /// Each candidate watches only its predecessor: when a candidate in the middle leaves, the one behind it
    /// re-checks, finds a lower candidate still there and does not take over; it now watches that one.
    func testNonLeaderLeavingDoesNotChangeLeadership() async throws {
        let n1 = try await coordinator("n1")
        let n2 = try await coordinator("n2")
        let n3 = try await coordinator("n3")
        let events1 = EventRecorder(n1.events)
        let events3 = EventRecorder(n3.events)
        try await n1.joinElection()
        try await n2.joinElection()
        try await n3.joinElection()
        try await events1.wait(for: "n1 leads") { $0.contains(.becameLeader) }

        await n2.close()
        // n3 re-checks after n2's znode goes; give it time to (wrongly) take over, then look.
        try await eventually("n2's candidate gone") {
            try await n3.client.children(n3.paths.election).count == 2
        }
        try await Task.sleep(for: .milliseconds(300))
        let n1Leads = await n1.isLeader
        let n3Leads = await n3.isLeader
        XCTAssertTrue(n1Leads)
        XCTAssertFalse(n3Leads)
        XCTAssertFalse(events3.events.contains(.becameLeader))
        let leaderAfterMiddleLeft = try await n3.leaderID()
        XCTAssertEqual(leaderAfterMiddleLeft, "n1")

        // n3 must now be watching n1.
        await n1.close()
        try await events3.wait(for: "n3 becomes leader") { $0.contains(.becameLeader) }
        let n3LeadsNow = await n3.isLeader
        XCTAssertTrue(n3LeadsNow)
    }

    func testLeaderStopsLeadingWhenItsCandidateIsDeleted() async throws {
        let n1 = try await coordinator("n1")
        let n2 = try await coordinator("n2")
        let events2 = EventRecorder(n2.events)
        let n1Leads = try await n1.joinElection()
        XCTAssertTrue(n1Leads)
        let n2Leads = try await n2.joinElection()
        XCTAssertFalse(n2Leads)

        // An operator removes the leader's candidate by hand: n2 takes over, n1 stands again behind it.
        let candidates = ElectionNames.sorted(try await n2.client.children(n2.paths.election))
        try await n2.client.delete("\(n2.paths.election)/\(candidates[0])")
        try await events2.wait(for: "n2 becomes leader") { $0.contains(.becameLeader) }
        try await eventually("n1 stops leading") { await !n1.isLeader }
        try await eventually("n1 stands again") {
            try await n2.client.children(n2.paths.election).count == 2
        }
        let leader = try await n1.leaderID()
        XCTAssertEqual(leader, "n2")
    }

    /// A server that crashed and restarted before its session expired removes its earlier run's
    /// candidate wherever that stands: the next candidate leads now, not after the session
    /// timeout (torture seed 204: 3 s without a leader, the one watching that candidate being
    /// itself cut off from ZooKeeper).
    func testANewRunRemovesItsEarlierRunsCandidate() async throws {
        let network = try proxy()
        let crashed = try await coordinator("n1", via: network, sessionTimeout: .seconds(20))
        let n2 = try await coordinator("n2")
        let events2 = EventRecorder(n2.events)
        let crashedLed = try await crashed.joinElection()
        XCTAssertTrue(crashedLed)
        let n2Led = try await n2.joinElection()
        XCTAssertFalse(n2Led)

        network.cutConnections()  // the process is gone; its session lives on for 20 s
        let restarted = try await coordinator("n1")
        let restartedLeads = try await restarted.joinElection()
        XCTAssertFalse(restartedLeads, "n2 stood before this run")
        try await events2.wait(for: "n2 becomes leader", timeout: .seconds(5)) { $0.contains(.becameLeader) }
        let leader = try await restarted.leaderID()
        XCTAssertEqual(leader, "n2")
        let candidates = try await n2.client.children(n2.paths.election)
        XCTAssertEqual(candidates.count, 2, "n2 and the new run of n1")
    }

    /// The earlier run was only paused: when it wakes to find its candidate removed by the later
    /// run, it does not stand again (nobody would remove that candidate before its session
    /// expired: the server behind it watches the id's address, where the later run answers).
    func testAPausedEarlierRunDoesNotStandAgainBehindItsLaterRun() async throws {
        let earlier = try await coordinator("n1")
        try await earlier.register(member: MemberInfo(id: "n1", host: "127.0.0.1", port: 7001))
        let earlierLed = try await earlier.joinElection()
        XCTAssertTrue(earlierLed)
        let later = try await coordinator("n1")
        try await later.register(member: MemberInfo(id: "n1", host: "127.0.0.1", port: 7001))
        let laterLeads = try await later.joinElection()
        XCTAssertTrue(laterLeads, "the earlier run's candidate was removed")
        try await eventually("the earlier run stops leading") { await !earlier.isLeader }
        try await Task.sleep(for: .milliseconds(500))  // time to (wrongly) stand again
        let candidates = try await later.client.children(later.paths.election)
        XCTAssertEqual(candidates.count, 1, "only the later run stands: \(candidates)")
    }

    func testLeaderIDWithoutCandidates() async throws {
        let n1 = try await coordinator("n1")
        let noLeader = try await n1.leaderID()
        XCTAssertNil(noLeader)
        let n1Leads = await n1.isLeader
        XCTAssertFalse(n1Leads)
    }
}

/// Election znode names sorted by sequence (the tests' own, simpler than the library's).
enum ElectionNames {
    static func sorted(_ names: [String]) -> [String] {
        names.sorted { $0.suffix(10) < $1.suffix(10) }
    }
}

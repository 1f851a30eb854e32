import ChainCoordination
import XCTest

final class CoordinatorTests: ZooKeeperTestCase {
    func testRegisterPublishesReadableJSONAndMembersChangedFollowsJoinsAndLeaves() async throws {
        let observer = try await coordinator("observer")
        let events = EventRecorder(observer.events)
        try await observer.watchMembers()
        try await events.wait(for: "empty member list") { $0.memberLists.contains([]) }

        let n1 = try await coordinator("n1")
        let info = MemberInfo(id: "n1", host: "127.0.0.1", port: 7001)
        try await n1.register(member: info)
        try await events.wait(for: "n1 joined") { $0.memberLists.contains([info]) }
        let members = try await observer.liveMembers()
        XCTAssertEqual(members, [info])

        // zkCli shows the znode data as one line of JSON with sorted keys.
        let raw = try await observer.client.getData(observer.paths.member("n1")).data
        let text = String(decoding: raw, as: UTF8.self)
        XCTAssertFalse(text.contains("\n"))
        XCTAssertTrue(text.hasPrefix(#"{"host":"127.0.0.1","id":"n1","pid":"#), text)

        await n1.close()
        try await events.wait(for: "n1 left") { $0.memberLists.filter(\.isEmpty).count == 2 }
        let membersAfter = try await observer.liveMembers()
        XCTAssertEqual(membersAfter, [])

        // Each listing is newer than the one before (the server drops a list older than one it
        // applied), and liveMembersAndVersion reads the newest.
        let versions = events.events.compactMap(\.memberListVersion)
        XCTAssertEqual(versions.count, 3, "\(versions)")
        XCTAssertEqual(versions, versions.sorted())
        XCTAssertEqual(Set(versions).count, versions.count, "\(versions)")
        let now = try await observer.liveMembersAndVersion()
        XCTAssertEqual(now.members, [])
        XCTAssertEqual(now.version, versions.last)
    }

    /// A server restarted right after a crash finds its member znode still held by its previous session.
    func testRegisterReplacesOwnMemberZnodeHeldByAnotherLiveSession() async throws {
        let observer = try await coordinator("observer")
        let events = EventRecorder(observer.events)
        try await observer.watchMembers()

        let old = try await coordinator("n1")
        let oldInfo = MemberInfo(id: "n1", host: "127.0.0.1", port: 7001, startedAt: "2026-01-01T00:00:00.000Z", pid: 100)
        try await old.register(member: oldInfo)
        try await events.wait(for: "old incarnation") { $0.memberLists.contains([oldInfo]) }

        let new = try await coordinator("n1")
        let newInfo = MemberInfo(id: "n1", host: "127.0.0.1", port: 7001, startedAt: "2026-01-01T00:00:05.000Z", pid: 200)
        let clock = ContinuousClock()
        let start = clock.now
        try await new.register(member: newInfo)
        XCTAssertLessThan(clock.now - start, .seconds(2), "no waiting for the old session to time out")

        let stat = try await observer.client.stat(observer.paths.member("n1"))
        XCTAssertEqual(stat?.ephemeralOwner, new.sessionID)
        XCTAssertTrue(old.isConnected, "the old session is still alive")
        try await events.wait(for: "new incarnation") { $0.last?.memberList == [newInfo] }

        // The old session ending later must not take the new znode with it.
        await old.close()
        try await Task.sleep(for: .milliseconds(200))
        let membersAfterOldLeft = try await observer.liveMembers()
        XCTAssertEqual(membersAfterOldLeft, [newInfo])
        // Registering again on the same session keeps the znode (ours already).
        try await new.register(member: newInfo)
        let ownerAfterReregister = try await observer.client.stat(observer.paths.member("n1"))?.ephemeralOwner
        XCTAssertEqual(ownerAfterReregister, new.sessionID)
    }

    func testRegisterRefusesAnotherNodesID() async throws {
        let n1 = try await coordinator("n1")
        do {
            try await n1.register(member: MemberInfo(id: "n2", host: "h", port: 1))
            XCTFail("n1 must not register as n2")
        } catch CoordinationError.memberIDMismatch(let expected, let got) {
            XCTAssertEqual(expected, "n1")
            XCTAssertEqual(got, "n2")
        }
    }

    func testWriteChainWithStaleVersionFails() async throws {
        let leader = try await coordinator("n1")
        let deposed = try await coordinator("n2")
        let noChain = try await leader.readChain()
        XCTAssertNil(noChain)

        let first = ChainConfig(epoch: 1, members: ["n1"], addresses: ["n1": "127.0.0.1:7001"], leader: "n1")
        let createdVersion = try await leader.writeChain(first, expectedVersion: nil)
        XCTAssertEqual(createdVersion, 0)
        do {
            try await deposed.writeChain(first, expectedVersion: nil)
            XCTFail("creating an existing chain must fail")
        } catch ZooKeeperError.nodeExists {
        }

        // n2 read version 0 back when it was leader.
        let readByDeposed = try await deposed.readChain()
        let staleVersion = try XCTUnwrap(readByDeposed).version
        XCTAssertEqual(staleVersion, 0)
        var second = first
        second.epoch = 2
        second.members = ["n1", "n3"]
        second.addresses["n3"] = "127.0.0.1:7003"
        let secondVersion = try await leader.writeChain(second, expectedVersion: 0)
        XCTAssertEqual(secondVersion, 1)

        var fromDeposed = first
        fromDeposed.epoch = 2
        fromDeposed.leader = "n2"
        do {
            try await deposed.writeChain(fromDeposed, expectedVersion: staleVersion)
            XCTFail("a write based on a stale version must be fenced")
        } catch ZooKeeperError.badVersion {
        }
        let afterFence = try await deposed.readChain()
        let (current, version) = try XCTUnwrap(afterFence)
        XCTAssertEqual(current, second)
        XCTAssertEqual(version, 1)
    }

    func testWriteChainRefusesInvalidConfig() async throws {
        let leader = try await coordinator("n1")
        let bad = ChainConfig(epoch: 1, members: ["n1", "n1"], addresses: ["n1": "h:1"], leader: "n1")
        do {
            try await leader.writeChain(bad, expectedVersion: nil)
            XCTFail("a chain listing a member twice must be refused")
        } catch CoordinationError.invalidData {
        }
        let noChainWritten = try await leader.readChain()
        XCTAssertNil(noChainWritten)
    }

    func testChainChangedEventsAreDeliveredToAWatcher() async throws {
        let leader = try await coordinator("n1")
        let watcher = try await coordinator("n2")
        let events = EventRecorder(watcher.events)
        try await watcher.watchChain()  // before the chain exists: arms a creation watch

        let first = ChainConfig(epoch: 1, members: ["n1", "n2"],
                                addresses: ["n1": "127.0.0.1:7001", "n2": "127.0.0.1:7002"], leader: "n1")
        try await leader.writeChain(first, expectedVersion: nil)
        try await events.wait(for: "chain created") { $0.contains(.chainChanged(first, version: 0)) }

        var second = first
        second.epoch = 2
        second.members = ["n2"]
        try await leader.writeChain(second, expectedVersion: 0)
        var third = second
        third.epoch = 3
        try await leader.writeChain(third, expectedVersion: 1)
        try await events.wait(for: "later writes") { $0.contains(.chainChanged(third, version: 2)) }

        let chainEvents = events.events.compactMap { event -> Int32? in
            if case .chainChanged(_, let version) = event { return version }
            return nil
        }
        XCTAssertEqual(chainEvents, chainEvents.sorted(), "versions arrive in order")
        XCTAssertEqual(Set(chainEvents).count, chainEvents.count, "no version reported twice")

        // A new watcher gets the current configuration at once.
        let late = try await coordinator("n3")
        let lateEvents = EventRecorder(late.events)
        try await late.watchChain()
        try await lateEvents.wait(for: "current chain") { $0.contains(.chainChanged(third, version: 2)) }
    }

    func testSessionLossIsReported() async throws {
        let network = try proxy()
        let n1 = try await coordinator("n1", via: network, sessionTimeout: .seconds(2))
        let observer = try await coordinator("observer")
        let events = EventRecorder(n1.events)
        let observed = EventRecorder(observer.events)
        let ledAtJoin = try await n1.joinElection()
        XCTAssertTrue(ledAtJoin)
        let info = MemberInfo(id: "n1", host: "127.0.0.1", port: 7001)
        try await n1.register(member: info)
        try await observer.watchMembers()
        try await observed.wait(for: "n1 registered") { $0.memberLists.contains([info]) }

        network.cutConnections()
        try await events.wait(for: "disconnected") { $0.contains(.connectionStateChanged(connected: false)) }
        XCTAssertFalse(n1.isConnected)
        try await observed.wait(for: "n1's session expired on the server") { $0.last?.memberList == [] }
        network.restore()

        try await events.wait(for: "sessionLost") { $0.contains(.sessionLost) }
        let leads = await n1.isLeader
        XCTAssertFalse(leads)
        do {
            _ = try await n1.liveMembers()
            XCTFail("an expired session must refuse calls")
        } catch ZooKeeperError.sessionExpired {
        }
    }

    /// Watches are one-shot and a disconnection may hide a change: after reconnecting, the coordinator
    /// re-reads what it watches and reports what it missed.
    func testChainChangeDuringDisconnectionIsReportedAfterReconnect() async throws {
        let network = try proxy()
        let leader = try await coordinator("n1")
        let watcher = try await coordinator("n2", via: network)
        let events = EventRecorder(watcher.events)
        let first = ChainConfig(epoch: 1, members: ["n1"], addresses: ["n1": "127.0.0.1:7001"], leader: "n1")
        try await leader.writeChain(first, expectedVersion: nil)
        try await watcher.watchChain()
        try await events.wait(for: "current chain") { $0.contains(.chainChanged(first, version: 0)) }

        network.cutConnections()
        try await events.wait(for: "disconnected") { $0.contains(.connectionStateChanged(connected: false)) }
        var second = first
        second.epoch = 2
        try await leader.writeChain(second, expectedVersion: 0)
        network.restore()

        try await events.wait(for: "missed write") { $0.contains(.chainChanged(second, version: 1)) }
        XCTAssertTrue(events.events.contains(.connectionStateChanged(connected: true)))
        let chainEvents = events.events.filter { if case .chainChanged = $0 { return true } else { return false } }
        XCTAssertEqual(chainEvents.count, 2, "each version reported once: \(chainEvents)")
    }
}

extension CoordinatorEvent {
    /// The members of a `.membersChanged` event (nil for any other event).
    var memberList: [MemberInfo]? {
        if case .membersChanged(let members, _) = self { return members }
        return nil
    }

    /// The version of a `.membersChanged` event's listing (nil for any other event).
    var memberListVersion: Int64? {
        if case .membersChanged(_, let version) = self { return version }
        return nil
    }
}

extension Array where Element == CoordinatorEvent {
    /// The member lists among these events, in order.
    var memberLists: [[MemberInfo]] { compactMap(\.memberList) }
}

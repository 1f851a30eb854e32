import ChainCoordination
import XCTest

final class ZooKeeperClientTests: ZooKeeperTestCase {
    func testCreateGetSetAndVersionConflict() async throws {
        let zk = try await client()
        try await zk.ensurePath(testRoot)
        try await zk.ensurePath(testRoot)  // idempotent
        let path = "\(testRoot)/node"

        let created = try await zk.create(path, data: Array("v0".utf8), mode: .persistent)
        XCTAssertEqual(created, path)
        let first = try await zk.getData(path)
        XCTAssertEqual(first.data, Array("v0".utf8))
        XCTAssertEqual(first.version, 0)

        let v1 = try await zk.setData(path, data: Array("v1".utf8), version: 0)
        XCTAssertEqual(v1, 1)
        do {
            try await zk.setData(path, data: Array("stale".utf8), version: 0)
            XCTFail("a write with a stale version must fail")
        } catch ZooKeeperError.badVersion {
        }
        let afterConflict = try await zk.getData(path).data
        XCTAssertEqual(afterConflict, Array("v1".utf8))
        let unconditional = try await zk.setData(path, data: [], version: -1)
        XCTAssertEqual(unconditional, 2)
        let emptied = try await zk.getData(path).data
        XCTAssertEqual(emptied, [])

        do {
            try await zk.create(path)
            XCTFail("create over an existing znode must fail")
        } catch ZooKeeperError.nodeExists {
        }
        do {
            try await zk.delete(path, version: 1)
            XCTFail("delete with a stale version must fail")
        } catch ZooKeeperError.badVersion {
        }
        try await zk.delete(path, version: 2)
        let afterDelete = try await zk.exists(path)
        XCTAssertNil(afterDelete)
        do {
            _ = try await zk.getData(path)
            XCTFail("reading a deleted znode must fail")
        } catch ZooKeeperError.noNode {
        }
        XCTAssertEqual(ZooKeeperError.badVersion.description, "ZooKeeper: znode version does not match (changed by someone else)")
    }

    /// A multi applies all its ops or none, and names the op that refused it.
    func testMultiAppliesAllOrNothingAndNamesTheFailingOp() async throws {
        let zk = try await client()
        try await zk.ensurePath(testRoot)
        let (a, b, c) = ("\(testRoot)/a", "\(testRoot)/b", "\(testRoot)/c")

        try await zk.multi([.create(path: a, data: [1], mode: .persistent), .setData(path: testRoot, data: [], version: -1),
                            .create(path: b, data: [], mode: .ephemeral)])
        let createdA = try await zk.getData(a)
        XCTAssertEqual(createdA.data, [1])
        let rootAfterCreate = try await zk.stat(testRoot)
        XCTAssertEqual(rootAfterCreate?.version, 1, "the setData in the same multi")
        let createdB = try await zk.stat(b)
        XCTAssertEqual(createdB?.ephemeralOwner, zk.sessionID, "an ephemeral create in a multi")

        // A failed check refuses everything before it too.
        await assertRefused(at: 1, .badVersion) {
            try await zk.multi([.setData(path: a, data: [2], version: -1), .check(path: testRoot, version: 0)])
        }
        let unchangedA = try await zk.getData(a)
        XCTAssertEqual(unchangedA.data, [1])
        XCTAssertEqual(unchangedA.version, 0)
        await assertRefused(at: 1, .nodeExists) {
            try await zk.multi([.create(path: c, data: [], mode: .persistent), .create(path: a, data: [], mode: .persistent)])
        }
        let neverCreatedC = try await zk.exists(c)
        XCTAssertNil(neverCreatedC)
        await assertRefused(at: 0, .noNode) { try await zk.multi([.delete(path: c, version: -1), .delete(path: a, version: -1)]) }

        try await zk.multi([.check(path: testRoot, version: 1), .delete(path: a, version: 0), .delete(path: b, version: -1)])
        let (goneA, goneB) = (try await zk.exists(a), try await zk.exists(b))
        XCTAssertNil(goneA)
        XCTAssertNil(goneB)

        // Bounds: no ops, too many, too much data in all.
        for ops: [ZooKeeperOp] in [[], Array(repeating: .check(path: testRoot, version: -1), count: ZooKeeperClient.multiOpsMax + 1)] {
            do {
                try await zk.multi(ops)
                XCTFail("\(ops.count) ops must be refused")
            } catch ZooKeeperError.badArguments {
            }
        }
        let half = [UInt8](repeating: 7, count: ZooKeeperClient.maxDataSize / 2 + 1)
        do {
            try await zk.multi([.create(path: c, data: half, mode: .persistent), .setData(path: testRoot, data: half, version: -1)])
            XCTFail("more data than one request may carry must be refused")
        } catch ZooKeeperError.dataTooLarge(let size) {
            XCTAssertEqual(size, 2 * half.count)
        }
        // Paths the C client would refuse are refused before it sees them (it mishandles a refusal
        // inside a multi), and so is a closed client.
        for bad in ["", "relative", "\(testRoot)/", "\(testRoot)//x", "\(testRoot)/./x", "\(testRoot)/..", "\(testRoot)/a\u{1}"] {
            do {
                try await zk.multi([.check(path: testRoot, version: -1), .create(path: bad, data: [], mode: .persistent)])
                XCTFail("path \(String(reflecting: bad)) must be refused")
            } catch ZooKeeperError.badArguments {
            }
        }
        let stillConnected = try await zk.exists(testRoot)
        XCTAssertNotNil(stillConnected)
        await zk.close()
        do {
            try await zk.multi([.check(path: testRoot, version: -1)])
            XCTFail("a closed client must refuse")
        } catch ZooKeeperError.closed {
        }
    }

    private func assertRefused(at index: Int, _ error: ZooKeeperError, _ body: () async throws -> Void, line: UInt = #line) async {
        do {
            try await body()
            XCTFail("the multi must be refused", line: line)
        } catch let refused as ZooKeeperMultiError {
            XCTAssertEqual(refused, ZooKeeperMultiError(index: index, error: error), line: line)
        } catch {
            XCTFail("expected a refused multi, got \(error)", line: line)
        }
    }

    func testChildrenAndSequentialNodes() async throws {
        let zk = try await client()
        try await zk.ensurePath("\(testRoot)/queue")
        let a = try await zk.create("\(testRoot)/queue/item-", data: [1], mode: .persistentSequential)
        let b = try await zk.create("\(testRoot)/queue/item-", data: [2], mode: .ephemeralSequential)
        XCTAssertTrue(a.hasPrefix("\(testRoot)/queue/item-"))
        XCTAssertEqual(a.count, "\(testRoot)/queue/item-".count + 10, "10-digit sequence suffix")
        XCTAssertLessThan(a, b)
        let names = try await zk.children("\(testRoot)/queue").sorted()
        XCTAssertEqual(names.map { "\(testRoot)/queue/\($0)" }, [a, b])
        let stat = try await zk.stat(b)
        XCTAssertEqual(stat?.ephemeralOwner, zk.sessionID)
        let persistentOwner = try await zk.stat(a)?.ephemeralOwner
        XCTAssertEqual(persistentOwner, 0)
        do {
            _ = try await zk.children("\(testRoot)/missing")
            XCTFail("listing a missing znode must fail")
        } catch ZooKeeperError.noNode {
        }
    }

    func testEphemeralZnodeDisappearsWhenItsSessionCloses() async throws {
        let owner = try await client()
        let observer = try await client()
        XCTAssertNotEqual(owner.sessionID, observer.sessionID)
        let events = EventRecorder(observer.events)
        try await owner.ensurePath(testRoot)
        let path = "\(testRoot)/ephemeral"
        try await owner.create(path, data: Array("x".utf8), mode: .ephemeral)
        let seen = try await observer.exists(path, watch: true)
        XCTAssertNotNil(seen)

        await owner.close()
        try await events.wait(for: "deleted(\(path))") { $0.contains(.deleted(path: path)) }
        let afterClose = try await observer.exists(path)
        XCTAssertNil(afterClose)
        XCTAssertFalse(owner.isConnected)
    }

    func testWatchesFireOnceForCreateChangeAndChildren() async throws {
        let zk = try await client()
        let events = EventRecorder(zk.events)
        try await zk.ensurePath(testRoot)
        let path = "\(testRoot)/watched"

        let before = try await zk.exists(path, watch: true)
        XCTAssertNil(before)
        let children = try await zk.children(testRoot, watch: true)
        XCTAssertEqual(children, [])
        try await zk.create(path, data: [1])
        try await events.wait(for: "created and childrenChanged") {
            $0.contains(.created(path: path)) && $0.contains(.childrenChanged(path: testRoot))
        }

        _ = try await zk.getData(path, watch: true)
        try await zk.setData(path, data: [2])
        try await zk.setData(path, data: [3])  // the watch is one-shot: no second event for this
        try await events.wait(for: "changed") { $0.contains(.changed(path: path)) }
        _ = try await zk.getData(path)  // a round trip, so a second event would have arrived by now
        XCTAssertEqual(events.events.filter { $0 == .changed(path: path) }.count, 1)
        XCTAssertEqual(events.events.first, .connected, "session events come through the same stream")
    }

    func testCloseIsIdempotentAndLaterCallsFail() async throws {
        let zk = try await client()
        XCTAssertTrue(zk.isConnected)
        XCTAssertNotEqual(zk.sessionID, 0)
        // Asked for 10 s; the server may clamp it to its 2-20 tick range, never to nothing.
        let granted = try XCTUnwrap(zk.negotiatedSessionTimeout)
        XCTAssertGreaterThanOrEqual(granted, .seconds(2))
        XCTAssertLessThanOrEqual(granted, .seconds(10))
        await zk.close()
        XCTAssertNil(zk.negotiatedSessionTimeout)
        await zk.close()
        XCTAssertFalse(zk.isConnected)
        do {
            _ = try await zk.exists("/")
            XCTFail("a closed client must refuse calls")
        } catch ZooKeeperError.closed {
        }
        do {
            try await zk.waitConnected(timeout: .seconds(1))
            XCTFail("a closed client never connects")
        } catch ZooKeeperError.closed {
        }
    }

    func testOversizedDataIsRefusedWithoutLosingTheConnection() async throws {
        let zk = try await client()
        try await zk.ensurePath(testRoot)
        do {
            try await zk.create("\(testRoot)/big", data: [UInt8](repeating: 7, count: 2_000_000))
            XCTFail("2 MB of data must be refused")
        } catch ZooKeeperError.dataTooLarge(let size) {
            XCTAssertEqual(size, 2_000_000)
        }
        XCTAssertTrue(zk.isConnected)
        try await zk.create("\(testRoot)/big", data: [UInt8](repeating: 7, count: 500_000))
        let bigSize = try await zk.getData("\(testRoot)/big").data.count
        XCTAssertEqual(bigSize, 500_000)
    }

    func testWaitConnectedTimesOutWithoutServer() async throws {
        let port = try ZooKeeperServer.freePort()
        let zk = try ZooKeeperClient(connectString: "127.0.0.1:\(port)")
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try await zk.waitConnected(timeout: .milliseconds(300))
            XCTFail("nothing listens there")
        } catch ZooKeeperError.timedOut {
        }
        XCTAssertLessThan(clock.now - start, .seconds(3))
        XCTAssertFalse(zk.isConnected)
        XCTAssertNil(zk.negotiatedSessionTimeout, "no session yet")
        await zk.close()
    }

    func testExpiredSessionIsReported() async throws {
        let network = try proxy()
        let zk = try await client(via: network, sessionTimeout: .seconds(2))
        let observer = try await client()
        let events = EventRecorder(zk.events)
        let observed = EventRecorder(observer.events)
        try await zk.ensurePath(testRoot)
        let path = "\(testRoot)/mine"
        try await zk.create(path, mode: .ephemeral)
        let watched = try await observer.exists(path, watch: true)
        XCTAssertNotNil(watched)

        // Cut the network until the server gives up on the session (it deletes the session's ephemeral znode),
        // then let the client reconnect: the server tells it the session is gone.
        network.cutConnections()
        try await events.wait(for: "connecting") { $0.contains(.connecting) }
        XCTAssertFalse(zk.isConnected)
        try await observed.wait(for: "expiry on the server") { $0.contains(.deleted(path: path)) }
        network.restore()
        try await events.wait(for: "expired") { $0.contains(.expired) }
        XCTAssertEqual(events.events.filter { $0 == .connecting }.count, 1, "repeated reconnect attempts are reported once")
        do {
            _ = try await zk.exists("/")
            XCTFail("an expired session must refuse calls")
        } catch ZooKeeperError.sessionExpired {
        }
        // A multi on the dead session is refused before the C client sees it (it would mishandle
        // the refusal), with the same error.
        do {
            try await zk.multi([.check(path: testRoot, version: -1), .delete(path: path, version: -1)])
            XCTFail("an expired session must refuse a multi")
        } catch ZooKeeperError.sessionExpired {
        }
        do {
            try await zk.waitConnected(timeout: .seconds(1))
            XCTFail("an expired session never connects again")
        } catch ZooKeeperError.sessionExpired {
        }
    }

    func testSessionSurvivesAShortDisconnection() async throws {
        let network = try proxy()
        let zk = try await client(via: network, sessionTimeout: .seconds(10))
        let other = try await client()
        let events = EventRecorder(zk.events)
        try await zk.ensurePath(testRoot)
        let path = "\(testRoot)/watched"
        try await zk.create(path, data: [1], mode: .ephemeral)
        _ = try await zk.getData(path, watch: true)
        let session = zk.sessionID

        network.cutConnections()
        try await events.wait(for: "connecting") { $0.contains(.connecting) }
        try await other.setData(path, data: [2])  // while the watcher is away
        network.restore()
        try await zk.waitConnected(timeout: .seconds(20))
        XCTAssertEqual(zk.sessionID, session)
        // The watch armed before the disconnection still fires (the client re-registers it on reconnect).
        try await events.wait(for: "changed after reconnect") { $0.contains(.changed(path: path)) }
        let data = try await zk.getData(path).data
        XCTAssertEqual(data, [2])
        XCTAssertEqual(events.events.filter { $0 == .connected }.count, 2)
    }
}

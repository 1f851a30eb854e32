@testable import ChainCoordination
import XCTest

final class ModelTests: XCTestCase {
    func testMemberInfoRoundTripAndSortedKeys() throws {
        let info = MemberInfo(id: "n1", host: "10.0.0.1", port: 7001, startedAt: "2026-11-24T23:00:00.123Z", pid: 42)
        let bytes = try info.encoded()
        XCTAssertEqual(
            String(decoding: bytes, as: UTF8.self),
            #"{"host":"10.0.0.1","id":"n1","pid":42,"port":7001,"startedAt":"2026-11-24T23:00:00.123Z"}"#)
        XCTAssertEqual(try MemberInfo.decode(bytes), info)
        XCTAssertEqual(info.address, "10.0.0.1:7001")
    }

    func testMemberInfoDefaultsIdentifyTheIncarnation() throws {
        let info = MemberInfo(id: "n1", host: "h", port: 1)
        XCTAssertEqual(info.pid, ProcessInfo.processInfo.processIdentifier)
        XCTAssertNotNil(try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(info.startedAt), info.startedAt)
    }

    func testChainConfigRoundTrip() throws {
        let config = ChainConfig(epoch: 7, members: ["n2", "n1"], addresses: ["n1": "h1:1", "n2": "h2:2"],
                                 leader: "n1", updatedAt: "2026-11-24T23:00:00.000Z", incarnations: ["n1": "t1/10", "n2": "t2/20"],
                                 syncing: ["n1"])
        let bytes = try config.encoded()
        XCTAssertEqual(
            String(decoding: bytes, as: UTF8.self),
            #"{"addresses":{"n1":"h1:1","n2":"h2:2"},"epoch":7,"incarnations":{"n1":"t1/10","n2":"t2/20"},"leader":"n1","members":["n2","n1"],"syncing":["n1"],"updatedAt":"2026-11-24T23:00:00.000Z"}"#)
        XCTAssertEqual(try ChainConfig.decode(bytes), config)
        // A configuration written without incarnations or syncing marks still reads.
        let old = #"{"addresses":{"n1":"h1:1"},"epoch":1,"leader":"n1","members":["n1"],"updatedAt":"x"}"#
        XCTAssertEqual(try ChainConfig.decode(Array(old.utf8)).incarnations, [:])
        XCTAssertEqual(try ChainConfig.decode(Array(old.utf8)).syncing, [])
        // Only a member can be syncing.
        let stray = #"{"addresses":{"n1":"h1:1"},"epoch":1,"leader":"n1","members":["n1"],"syncing":["n9"],"updatedAt":"x"}"#
        XCTAssertThrowsError(try ChainConfig.decode(Array(stray.utf8)))
        XCTAssertEqual(config.head, "n2")
        XCTAssertEqual(config.tail, "n1")
        // The same content always encodes to the same bytes (writeChain relies on it after a connection loss).
        XCTAssertEqual(try config.encoded(), bytes)
    }

    func testGarbageIsRejected() {
        let garbage: [(String, [UInt8])] = [
            ("empty", []),
            ("not JSON", Array("hello".utf8)),
            ("binary", [0xff, 0x00, 0x13]),
            ("truncated", Array(#"{"epoch":1,"members":["#.utf8)),
            ("array", Array("[1,2]".utf8)),
            ("missing key", Array(#"{"epoch":1,"members":[],"addresses":{},"leader":"n1"}"#.utf8)),
            ("wrong type", Array(#"{"epoch":"one","members":[],"addresses":{},"leader":"n1","updatedAt":""}"#.utf8)),
            ("negative epoch", Array(#"{"epoch":-1,"members":[],"addresses":{},"leader":"n1","updatedAt":""}"#.utf8)),
            ("duplicate member", Array(#"{"epoch":1,"members":["a","a"],"addresses":{"a":"h:1"},"leader":"a","updatedAt":""}"#.utf8)),
            ("member without address", Array(#"{"epoch":1,"members":["a"],"addresses":{},"leader":"a","updatedAt":""}"#.utf8)),
            ("bad member id", Array(#"{"epoch":1,"members":["a/b"],"addresses":{"a/b":"h:1"},"leader":"a","updatedAt":""}"#.utf8)),
        ]
        for (name, bytes) in garbage {
            XCTAssertThrowsError(try ChainConfig.decode(bytes), name) { error in
                XCTAssertTrue(error is CoordinationError, "\(name): \(error)")
            }
        }
        let badMembers: [(String, String)] = [
            ("port out of range", #"{"id":"n1","host":"h","port":70000,"startedAt":"","pid":1}"#),
            ("port zero", #"{"id":"n1","host":"h","port":0,"startedAt":"","pid":1}"#),
            ("empty host", #"{"id":"n1","host":"","port":1,"startedAt":"","pid":1}"#),
            ("id with slash", #"{"id":"../x","host":"h","port":1,"startedAt":"","pid":1}"#),
            ("null id", #"{"id":null,"host":"h","port":1,"startedAt":"","pid":1}"#),
        ]
        for (name, json) in badMembers {
            XCTAssertThrowsError(try MemberInfo.decode(Array(json.utf8)), name)
        }
    }

    func testOversizedDataIsRejectedBeforeParsing() {
        let huge = [UInt8](repeating: UInt8(ascii: " "), count: (1 << 20) + 1)
        XCTAssertThrowsError(try ChainConfig.decode(huge)) { error in
            XCTAssertEqual(error as? CoordinationError, .dataTooLarge(size: (1 << 20) + 1, limit: 1 << 20))
        }
    }

    func testErrorsReadWell() {
        XCTAssertEqual(ZooKeeperError(code: -101), .noNode)
        XCTAssertEqual(ZooKeeperError(code: -110), .nodeExists)
        XCTAssertEqual(ZooKeeperError(code: -103), .badVersion)
        XCTAssertEqual(ZooKeeperError(code: -4), .connectionLoss)
        XCTAssertEqual(ZooKeeperError(code: -112), .sessionExpired)
        XCTAssertEqual(ZooKeeperError(code: -102), .other(code: -102))
        XCTAssertEqual(ZooKeeperError.other(code: -102).description, "ZooKeeper: error -102 (not authenticated)")
        XCTAssertTrue(CoordinationError.invalidName("a/b").description.contains("\"a/b\""))
    }

    func testZnodePaths() throws {
        let paths = try ZnodePaths(cluster: "prod-1")
        XCTAssertEqual(paths.root, "/chainkv/prod-1")
        XCTAssertEqual(paths.members, "/chainkv/prod-1/members")
        XCTAssertEqual(paths.member("n1"), "/chainkv/prod-1/members/n1")
        XCTAssertEqual(paths.election, "/chainkv/prod-1/election")
        XCTAssertEqual(paths.electionPrefix, "/chainkv/prod-1/election/leader-")
        XCTAssertEqual(paths.chain, "/chainkv/prod-1/chain")
        for bad in ["", ".", "..", "a/b", "a b", "ä", "zookeeper\u{0}", String(repeating: "x", count: 129)] {
            XCTAssertThrowsError(try ZnodePaths(cluster: bad), bad)
        }
        XCTAssertNoThrow(try ZnodePaths(cluster: "A.b_c-9"))
    }

    func testElectionOrderUsesTheSequenceAndIgnoresStrangers() {
        let names = ["leader-0000000010", "leader-0000000002", "other", "leader-", "leader-x1", "leader-0000000007"]
        let ordered = ElectionOrder.sorted(names)
        XCTAssertEqual(ordered.map(\.name), ["leader-0000000002", "leader-0000000007", "leader-0000000010"])
        XCTAssertNil(ElectionOrder.predecessor(of: "leader-0000000002", in: ordered))
        XCTAssertEqual(ElectionOrder.predecessor(of: "leader-0000000010", in: ordered)?.name, "leader-0000000007")
        XCTAssertNil(ElectionOrder.predecessor(of: "leader-0000000099", in: ordered))
    }
}

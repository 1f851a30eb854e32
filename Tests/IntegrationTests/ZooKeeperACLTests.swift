import ChainCoordination
import ChainKV
import Foundation
import XCTest

/// With `zookeeperDigestFile`, the servers authenticate to ZooKeeper with digest credentials and
/// create the cluster's znodes writable by that identity only (readable by anyone): other
/// ZooKeeper users, zkCli included, cannot rewrite the chain.
final class ZooKeeperACLTests: XCTestCase {
    func testChainZnodeCannotBeChangedWithoutTheDigest() throws {
        let dir = try TestEnvironment.temporaryDirectory("digest")
        let digestFile = dir.appendingPathComponent("zk-digest")
        try "chainkv:s3cret-zk-password\n".write(to: digestFile, atomically: true, encoding: .utf8)
        let cluster = try ClusterFixture(size: 2, serverArguments: ["--zookeeper-digest-file", digestFile.path])
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        try blockingTest { try await client.put("k", [1]) }
        let paths = try ZnodePaths(cluster: cluster.cluster)

        try blockingTest {
            // No credentials: reads work, changes are refused with NOAUTH.
            let anonymous = try ZooKeeperClient(connectString: cluster.zookeeper, sessionTimeout: .seconds(4))
            try await anonymous.waitConnected(timeout: .seconds(10))
            let (data, version) = try await anonymous.getData(paths.chain)
            XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"members\""))
            await Self.assertNotAuthorized { try await anonymous.setData(paths.chain, data: Array(#"{"epoch":999}"#.utf8)) }
            await Self.assertNotAuthorized { try await anonymous.delete(paths.chain) }
            await Self.assertNotAuthorized { try await anonymous.create(paths.member("intruder"), data: [1], mode: .ephemeral) }
            await Self.assertNotAuthorized { try await anonymous.delete(paths.member("n1")) }
            // A member znode (created in a multi with the members folder's setData) is protected
            // itself, and so is the folder.
            await Self.assertNotAuthorized { try await anonymous.setData(paths.member("n2"), data: [1]) }
            await Self.assertNotAuthorized { try await anonymous.setData(paths.members, data: [1]) }
            // Other credentials do no better.
            let other = try ZooKeeperClient(connectString: cluster.zookeeper, sessionTimeout: .seconds(4),
                                            digest: try ZooKeeperDigest(credentials: "chainkv:guess"))
            try await other.waitConnected(timeout: .seconds(10))
            await Self.assertNotAuthorized { try await other.setData(paths.chain, data: data) }
            // The cluster's credentials may: write the same bytes back (a version-conditioned write,
            // which the leader's next conditional write then sees as a newer version).
            let owner = try ZooKeeperClient(connectString: cluster.zookeeper, sessionTimeout: .seconds(4),
                                            digest: try ZooKeeperDigest(file: digestFile.path))
            try await owner.waitConnected(timeout: .seconds(10))
            let newVersion = try await owner.setData(paths.chain, data: data, version: version)
            XCTAssertEqual(newVersion, version + 1)
            let (after, _) = try await anonymous.getData(paths.chain)
            XCTAssertEqual(after, data, "the chain znode holds what the cluster wrote")
            await anonymous.close()
            await other.close()
            await owner.close()
        }

        // zkCli without the digest cannot change it either.
        let zkCli = "/usr/share/zookeeper/bin/zkCli.sh"
        if FileManager.default.isExecutableFile(atPath: zkCli) {
            let r = try TestEnvironment.run(zkCli, ["-server", cluster.zookeeper, "set", paths.chain, #"{"epoch":999}"#], timeout: 60)
            XCTAssertTrue(r.output.contains("Insufficient permission") || r.output.contains("NoAuth"), r.output)
            // The ACL: everything for the cluster's digest identity, read for anyone. (ZooKeeper
            // shows the digest's hash as "x" to a session without admin rights on the znode.)
            let acl = try TestEnvironment.run(zkCli, ["-server", cluster.zookeeper, "getAcl", paths.chain], timeout: 60)
            XCTAssertTrue(acl.output.contains("'digest,'chainkv:x\n: cdrwa"), acl.output)
            XCTAssertTrue(acl.output.contains("'world,'anyone\n: r"), acl.output)
            let memberACL = try TestEnvironment.run(zkCli, ["-server", cluster.zookeeper, "getAcl", paths.member("n2")], timeout: 60)
            XCTAssertTrue(memberACL.output.contains("'digest,'chainkv:x\n: cdrwa"), memberACL.output)
            XCTAssertTrue(memberACL.output.contains("'world,'anyone\n: r"), memberACL.output)
        }

        // The cluster carries on: it still writes its chain znode (a member leaves, the leader repairs).
        cluster.kill(1)
        try cluster.waitForChain(members: 1, timeout: 30)
        try blockingTest { try await client.put("k", [2]) }
        XCTAssertEqual(try blockingTest { try await client.get("k") }, [2])
    }

    static func assertNotAuthorized(_ body: () async throws -> Void, line: UInt = #line) async {
        do {
            try await body()
            XCTFail("changed a protected znode without the cluster's digest", line: line)
        } catch ZooKeeperError.notAuthorized {
        } catch {
            XCTFail("expected NOAUTH, got \(error)", line: line)
        }
    }

    func testDigestCredentialsAreValidated() throws {
        let digest = try ZooKeeperDigest(credentials: "user:pass:with:colons")
        XCTAssertEqual(digest.user, "user")
        XCTAssertEqual(digest.password, "pass:with:colons")
        XCTAssertThrowsError(try ZooKeeperDigest(credentials: "no-colon"))
        XCTAssertThrowsError(try ZooKeeperDigest(credentials: ":password"))
        XCTAssertThrowsError(try ZooKeeperDigest(credentials: "user:"))
        XCTAssertThrowsError(try ZooKeeperDigest(credentials: "user:two\nlines"))
    }
}

import ChainKV
import ChainStorage
import Foundation
import XCTest

/// A replica's database damaged while its server is stopped (README, "Disk faults"): found at
/// start, moved aside, never served, and the replica rejoins by state transfer.
final class DamagedDatabaseTests: XCTestCase {
    /// Overwrites the start of pages 2... (B-tree page headers and cell pointers) with 0xFF.
    func damage(_ path: String, pages: ClosedRange<Int>) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        for page in pages {
            try handle.seek(toOffset: UInt64((page - 1) * Store.newPageSize))
            handle.write(Data(repeating: 0xFF, count: 64))
        }
    }

    func testDamagedFileIsMovedAsideAndTheReplicaRejoinsByTransfer() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        var acked = try writePairs(client, prefix: "before", count: 300)
        // A clean stop: the WAL is checkpointed into the file, so the damage is what a restart reads.
        cluster.kill(2, signal: SIGTERM)
        try damage(cluster.dbPath(2), pages: 2...6)
        acked.merge(try writePairs(client, prefix: "while-down", count: 100)) { $1 }
        try cluster.start(2)
        try waitFor("n3 to find its file damaged") { cluster.log(2).contains("database file damaged") }
        let moved = try FileManager.default.contentsOfDirectory(atPath: cluster.nodes[2].dataDir.path).filter { $0.contains(".damaged-") }
        XCTAssertFalse(moved.isEmpty, "the damaged file is kept aside for inspection")
        try cluster.waitForChain(members: 3)
        try waitFor("n3 to receive a snapshot") { cluster.log(2).contains("snapshot received") }
        acked.merge(try writePairs(client, prefix: "after", count: 100)) { $1 }
        try assertReadBack(client, acked, "after n3 rejoined")
        // n3 holds every acknowledged write (read from its own file once it stopped): the ones
        // before its join by the snapshot and catch-up, the "after" ones as the chain's tail.
        cluster.stop()
        let rows = Dictionary(try cluster.rows(2).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let missing = acked.filter { rows[$0.key] != $0.value }
        XCTAssertEqual(missing.count, 0, "n3 lacks \(missing.count) acknowledged writes after its transfer")
    }
}

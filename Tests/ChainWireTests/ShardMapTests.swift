import ChainCore
import ChainWire
import XCTest

final class ShardMapTests: XCTestCase {
    /// Servers, clients and `chainkv status` describe a cluster the same way: chains in natural
    /// id order (c2 before c10, which grown clusters have), each with its slots and members.
    func testChainsComeInNaturalOrderWithTheirSlotsAndMembers() throws {
        let ids = (0..<12).map(ClusterLeader.chainID)
        let map = SlotMap.even(chains: ids, version: 9)
        let member = NodeAddress(id: "n3", host: "127.0.0.1", port: 7003)
        let shards = ShardMap(map) { $0 == "c10" ? ChainInfo(epoch: 4, members: [member]) : nil }
        XCTAssertEqual(shards.chains.map(\.id), ids, "c2 before c10")
        XCTAssertEqual(shards.version, 9)
        XCTAssertEqual(shards.slotMap, map)
        XCTAssertEqual(shards.chains[10].chain, ChainInfo(epoch: 4, members: [member]))
        XCTAssertEqual(shards.chains[2].chain, ChainInfo(epoch: 0, members: []), "unknown: epoch 0, no members")
    }
}

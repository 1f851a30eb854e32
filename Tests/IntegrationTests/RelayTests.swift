import ChainCore
import ChainKV
import ChainTransport
import ChainWire
import Foundation
import NIOPosix
import XCTest

/// `relay` on a real sharded cluster (5 servers, 5 chains of 3), sent as a client would send it
/// to servers that do not head the key's chain. PartitionTests cuts a head from its clients and
/// checks the client's side.
final class RelayTests: XCTestCase {
    func request(_ cluster: ClusterFixture, _ server: Int, _ message: Message) throws -> Message {
        try blockingTest {
            let c = try await Connection.connect(host: "127.0.0.1", port: cluster.nodes[server].port,
                                                 group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(2), security: .none)
            defer { c.close() }
            return try await c.request(message, timeout: .seconds(3))
        }
    }

    func testAServerPassesAKeyedRequestToTheHeadOfTheChainNamedAndItsRetryIsRecognized() throws {
        let cluster = try ClusterFixture(size: 5, chains: 5)
        let map = try cluster.shards()
        let slotMap = try XCTUnwrap(map.slotMap)
        let key = "relayed-key"
        let chain = slotMap.chain(of: key)
        let members = try XCTUnwrap(map.chains.first { $0.id == chain }?.chain.members)
        let index = { (id: String) in try XCTUnwrap(cluster.nodes.firstIndex { $0.id == id }) }
        let head = try index(members[0].id)
        let middle = try index(members[1].id)
        let outsider = try XCTUnwrap(cluster.nodes.firstIndex { n in !members.contains { $0.id == n.id } })
        let write = RequestID(client: 0xfeed, seq: 1)

        // Through a server outside the chain, then the same request again through a member: the
        // head recognizes the retry and answers as the first time (a second application would
        // report "one" as the old value).
        XCTAssertEqual(try request(cluster, outsider, .relay(chain: chain, .put(key: key, value: Array("one".utf8), request: write))),
                       .putResult(old: nil))
        XCTAssertEqual(try request(cluster, middle, .relay(chain: chain, .put(key: key, value: Array("one".utf8), request: write))),
                       .putResult(old: nil), "a retry through another server is recognized")
        XCTAssertEqual(try request(cluster, outsider, .relay(chain: chain, .get(key: key))), .value(Array("one".utf8)))
        let versioned = try request(cluster, middle, .relay(chain: chain, .getVersioned(key: key)))
        guard case .versionedValue(let v?) = versioned else { return XCTFail("a versioned value, got \(versioned)") }
        XCTAssertEqual(v.value, Array("one".utf8))
        XCTAssertEqual(try request(cluster, outsider, .relay(chain: chain, .putVersioned(key: key, value: [2], request: RequestID(client: 0xfeed, seq: 2),
                                                                                         ifVersion: v.version + 1))),
                       .conditionFailed(current: v.version), "a condition is checked at the head")
        // A scan's page of the chain, through a server outside it; a relay for another chain
        // than the scan's is refused.
        let scan = Message.scan(chain: chain, mapVersion: slotMap.version, range: KeyRange(prefix: "relayed-"), limit: 10)
        guard case .scanPage(let rows, nil) = try request(cluster, outsider, .relay(chain: chain, scan)) else {
            return XCTFail("a scan page through the relay")
        }
        XCTAssertEqual(rows.map(\.key), [key])
        let elsewhere = try XCTUnwrap(map.chains.first { $0.id != chain }?.id)
        guard case .error(.badRequest, _) = try request(cluster, outsider, .relay(chain: elsewhere, scan)) else {
            return XCTFail("a relay naming another chain than its scan is refused")
        }
        // Sent to the head itself: answered there.
        XCTAssertEqual(try request(cluster, head, .relay(chain: chain, .get(key: key))), .value(Array("one".utf8)))

        // A chain that does not own the key's slot: its head answers "moved", as to a direct
        // request, so that a retry never lands on a chain that does not know its first attempt.
        // The chain asked is one whose head is also a member of the key's chain, so that only the
        // chain the relay names tells it apart (without it, that server answered for the key's
        // chain: "not the head").
        let other = try XCTUnwrap(map.chains.first { c in
            c.id != chain && c.chain.head.map { h in members.dropFirst().contains { $0.id == h.id } } == true
        })
        XCTAssertEqual(try request(cluster, outsider, .relay(chain: other.id, .put(key: key, value: [3], request: RequestID(client: 0xfeed, seq: 3)))),
                       .moved(slot: UInt16(SlotMap.slot(of: key)), mapVersion: slotMap.version))
        // A chain nobody knows: refused before anything was sent.
        guard case .error(.unavailable, _) = try request(cluster, outsider, .relay(chain: "c99", .get(key: key))) else {
            return XCTFail("a relay to an unknown chain is refused as unavailable")
        }
        XCTAssertEqual(try request(cluster, head, .get(key: key)), .value(Array("one".utf8)), "nothing else was applied")
    }
}

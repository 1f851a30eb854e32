import XCTest
@testable import ChainCore

final class PlacementTests: XCTestCase {
    let five = ["n1", "n2", "n3", "n4", "n5"]

    func testOneChainOfEveryServerIsThePapersChain() {
        XCTAssertEqual(Placement.chains(servers: five, count: 1, replicas: 5), [five])
    }

    func testHeadsAndReplicasAreSpreadEvenly() {
        for (n, k, r) in [(5, 5, 3), (5, 10, 3), (3, 3, 3), (4, 8, 2), (7, 14, 3), (6, 12, 4)] {
            let servers = (1...n).map { "s\($0)" }
            let chains = Placement.chains(servers: servers, count: k, replicas: r)
            XCTAssertEqual(chains.count, k)
            for chain in chains {
                XCTAssertEqual(chain.count, r)
                XCTAssertEqual(Set(chain).count, r, "\(chain) names a server twice")
            }
            let heads = Dictionary(grouping: chains.map { $0[0] }, by: { $0 }).mapValues(\.count)
            XCTAssertEqual(Set(heads.values), [k / n], "N=\(n) K=\(k): heads \(heads)")
            let replicas = Dictionary(grouping: chains.flatMap { $0 }, by: { $0 }).mapValues(\.count)
            XCTAssertEqual(Set(replicas.values), [k * r / n], "N=\(n) K=\(k) R=\(r): replicas \(replicas)")
        }
    }

    /// Chained declustering: the chains one server heads pass their head role to different
    /// servers when it fails.
    func testAFailedHeadsLoadGoesToSeveralServers() {
        let chains = Placement.chains(servers: five, count: 15, replicas: 3)
        for server in five {
            let successors = chains.filter { $0[0] == server }.map { $0[1] }
            XCTAssertEqual(successors.count, 3)
            XCTAssertEqual(Set(successors).count, 3, "\(server)'s chains all fall to \(successors)")
        }
    }

    func testFewerServersThanReplicas() {
        XCTAssertEqual(Placement.chains(servers: ["a", "b"], count: 2, replicas: 3), [["a", "b"], ["b", "a"]])
        XCTAssertEqual(Placement.defaultReplicas(servers: 2), 2)
        XCTAssertEqual(Placement.defaultReplicas(servers: 9), 3)
        XCTAssertEqual(Placement.chains(servers: [], count: 3, replicas: 3), [])
    }
}

final class SlotMapTests: XCTestCase {
    func testEvenMapGivesEveryChainItsShare() {
        let map = SlotMap.even(chains: ["c0", "c1", "c2"])
        XCTAssertEqual(map.counts, ["c0": 1366, "c1": 1365, "c2": 1365])
        XCTAssertEqual(map.ranges["c1"], [1366...2730])
        XCTAssertEqual(SlotMap.even(chains: ["only"]).ranges, ["only": [0...4095]])
    }

    func testRangesRoundTripAndMustCoverEverySlotOnce() {
        let map = SlotMap.even(chains: ["a", "b", "c", "d", "e"], version: 7)
        XCTAssertEqual(SlotMap(version: 7, ranges: map.ranges), map)
        XCTAssertNil(SlotMap(version: 1, ranges: ["a": [0...4094]]), "slot 4095 has no owner")
        XCTAssertNil(SlotMap(version: 1, ranges: ["a": [0...4095], "b": [5...5]]), "slot 5 owned twice")
        XCTAssertNil(SlotMap(version: 1, ranges: ["a": [0...4096]]), "no slot 4096")
        XCTAssertNil(SlotMap(version: 1, owners: ["a"]), "too few slots")
    }

    /// The hash is part of the cluster's format: these values must never change.
    func testSlotsOfKnownKeysAreFixed() {
        // Computed independently (Python, FNV-1a 64 of the UTF-8 bytes, modulo 4096).
        XCTAssertEqual(["a", "k1", "user:42", "ключ", ""].map(SlotMap.slot(of:)), [3212, 1217, 450, 2689, 805])
    }

    func testKeysSpreadOverTheSlots() {
        let map = SlotMap.even(chains: ["c0", "c1", "c2", "c3"])
        let perChain = Dictionary(grouping: (0..<40_000).map { map.chain(of: "key-\($0)") }, by: { $0 }).mapValues(\.count)
        for (chain, n) in perChain { XCTAssertEqual(Double(n), 10_000, accuracy: 600, chain) }
    }
}

import ChainCore
@testable import ChainCoordination
import XCTest

final class SlotsZnodeTests: XCTestCase {
    func testTheSlotMapIsReadableJSONAndRoundTrips() throws {
        let map = SlotMap.even(chains: ["c0", "c1"], version: 3)
        let bytes = try SlotsZnode(map).encoded()
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), #"{"chains":{"c0":[[0,2047]],"c1":[[2048,4095]]},"version":3}"#)
        XCTAssertEqual(try SlotsZnode.decode(bytes), map)
    }

    func testAMoveIsRecordedReadably() throws {
        let map = try XCTUnwrap(SlotMap.even(chains: ["c0", "c1"], version: 3).starting(XCTUnwrap(SlotMove(slots: [2046, 2047], from: "c0", to: "c1"))))
        let bytes = try SlotsZnode(map).encoded()
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self),
                       #"{"chains":{"c0":[[0,2047]],"c1":[[2048,4095]]},"moving":{"from":"c0","slots":[[2046,2047]],"to":"c1"},"version":4}"#)
        XCTAssertEqual(try SlotsZnode.decode(bytes), map)
        XCTAssertFalse(map.serves(2047))
        XCTAssertTrue(map.serves(2045))
        XCTAssertEqual(map.ending(done: true).counts, ["c0": 2046, "c1": 2050])
        XCTAssertEqual(map.ending(done: false).owners, SlotMap.even(chains: ["c0", "c1"]).owners)
    }

    func testDamagedMapsAreRefused() {
        for bad in [#"{"chains":{"c0":[[0,4094]]},"version":1}"#,          // slot 4095 unowned
                    #"{"chains":{"c0":[[0,4095]],"c1":[[7,7]]},"version":1}"#,  // slot 7 twice
                    #"{"chains":{"c0":[[4095,0]]},"version":1}"#,          // backwards
                    #"{"chains":{"c0":[[0]]},"version":1}"#,               // not a pair
                    #"{"chains":{"c/0":[[0,4095]]},"version":1}"#,         // not a name
                    #"{"chains":{"c0":[[-1,4095]]},"version":1}"#,
                    // a move of slots the donor does not own, to itself, or of no slot
                    #"{"chains":{"c0":[[0,2047]],"c1":[[2048,4095]]},"moving":{"from":"c0","slots":[[2048,2048]],"to":"c1"},"version":2}"#,
                    #"{"chains":{"c0":[[0,4095]]},"moving":{"from":"c0","slots":[[1,1]],"to":"c0"},"version":2}"#,
                    #"{"chains":{"c0":[[0,4095]]},"moving":{"from":"c0","slots":[],"to":"c1"},"version":2}"#] {
            XCTAssertThrowsError(try SlotsZnode.decode(Array(bad.utf8)), bad)
        }
    }

    func testPathsOfShardedClusters() throws {
        let paths = try ZnodePaths(cluster: "prod")
        XCTAssertEqual(paths.chains, "/chainkv/prod/chains")
        XCTAssertEqual(paths.chain("c3"), "/chainkv/prod/chains/c3")
        XCTAssertEqual(paths.slots, "/chainkv/prod/slots")
        XCTAssertEqual(paths.chain, "/chainkv/prod/chain", "the single chain's znode is unchanged")
    }
}

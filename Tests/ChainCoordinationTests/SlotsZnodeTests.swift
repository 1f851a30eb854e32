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

    func testDamagedMapsAreRefused() {
        for bad in [#"{"chains":{"c0":[[0,4094]]},"version":1}"#,          // slot 4095 unowned
                    #"{"chains":{"c0":[[0,4095]],"c1":[[7,7]]},"version":1}"#,  // slot 7 twice
                    #"{"chains":{"c0":[[4095,0]]},"version":1}"#,          // backwards
                    #"{"chains":{"c0":[[0]]},"version":1}"#,               // not a pair
                    #"{"chains":{"c/0":[[0,4095]]},"version":1}"#,         // not a name
                    #"{"chains":{"c0":[[-1,4095]]},"version":1}"#] {
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

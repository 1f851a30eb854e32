import XCTest
@testable import ChainCore

final class PublicVersionsTests: XCTestCase {
    func testTheSingleChainShowsSequenceNumbers() {
        let v = PublicVersions(chain: nil)
        XCTAssertEqual(v.version(ofSeq: 0), 0)
        XCTAssertEqual(v.version(ofSeq: 41), 41)
        XCTAssertEqual(v.seq(ofVersion: 41), 41)
    }

    /// Sharded, a key never shows the same version twice, whichever chains it moves between:
    /// chain c5's sequence number 41 and chain c3's are different versions, and a version from
    /// one chain matches no key of another.
    func testShardedVersionsNameTheirChain() {
        let c5 = PublicVersions(chain: "c5"), c3 = PublicVersions(chain: "c3"), c255 = PublicVersions(chain: "c255")
        XCTAssertEqual(c5.version(ofSeq: 0), 0, "absent is 0 everywhere")
        XCTAssertEqual(c5.version(ofSeq: 41), 41 << 8 | 5)
        XCTAssertNotEqual(c5.version(ofSeq: 41), c3.version(ofSeq: 41))
        XCTAssertEqual(c5.seq(ofVersion: c5.version(ofSeq: 41)), 41)
        XCTAssertNil(c3.seq(ofVersion: c5.version(ofSeq: 41)), "another chain's version")
        XCTAssertEqual(c3.seq(ofVersion: 0), 0)
        XCTAssertEqual(c255.seq(ofVersion: c255.version(ofSeq: 1 << 55)), 1 << 55)
        XCTAssertEqual(c5.published(VersionedValue([1], version: 2)), VersionedValue([1], version: 2 << 8 | 5))
        XCTAssertNil(c5.published(nil))
    }
}

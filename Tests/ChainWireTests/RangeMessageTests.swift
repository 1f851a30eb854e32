import ChainCore
import NIOCore
import XCTest
@testable import ChainWire

/// The range-read messages (kinds 96, 97): round trips, and every length and count bounded.
final class RangeMessageTests: XCTestCase {
    static let samples: [Message] = [
        .scan(chain: "c0", mapVersion: 0, range: KeyRange(prefix: ""), limit: 1),
        .scan(chain: "c12", mapVersion: 7, range: KeyRange(prefix: "a\u{7F}"), limit: UInt32(WireLimits.scanRowsMax)),
        .scan(chain: "c1", mapVersion: 1, range: KeyRange(from: "a", to: "b").resuming(after: "ab"), limit: 50),
        .scanPage(rows: [], next: nil),
        .scanPage(rows: [RangeRow(key: "k", value: VersionedValue([], version: 1)),
                         RangeRow(key: "\u{E9}", value: VersionedValue([0xFF, 0], version: .max))],
                  next: KeyRange(prefix: "").resuming(after: "\u{E9}")),
        .watch(chain: "c0", range: KeyRange(prefix: "w/"), after: nil, limit: 1000, waitMs: 10_000),
        .watch(chain: "c3", range: KeyRange(from: "a", to: "b"), after: 77, limit: 1, waitMs: 0),
        .changes(events: [], through: 0),
        .changes(events: [Change(key: "k", value: [1], version: 9), Change(key: "k", value: nil, version: 10)], through: 12),
        .compacted(oldest: 4096),
    ]

    func body(_ m: Message) -> ByteBuffer {
        var b = ByteBuffer()
        MessageCodec.encodeBody(m, into: &b)
        return b
    }

    func decode(_ kind: Message.Kind, _ bytes: ByteBuffer) throws -> Message {
        var b = bytes
        return try MessageCodec.decode(type: kind.rawValue, body: &b)
    }

    func testRoundTrips() throws {
        for m in Self.samples {
            XCTAssertEqual(try decode(m.kind, body(m)), m)
            var cut = body(m)
            cut.moveWriterIndex(to: cut.writerIndex - 1)
            XCTAssertThrowsError(try decode(m.kind, cut), "\(m.kind) cut short")
        }
    }

    func testAWatchWaitsAtMostThirtySeconds() {
        var b = body(.watch(chain: "c0", range: KeyRange(), after: nil, limit: 1, waitMs: 0))
        b.setInteger(WireLimits.watchWaitMsMax + 1, at: b.writerIndex - 4)
        XCTAssertThrowsError(try decode(.watch, b))
        var zero = body(.changes(events: [Change(key: "k", value: nil, version: 1)], through: 1))
        zero.setInteger(UInt64(0), at: 4 + 2 + 1 + 1)
        XCTAssertThrowsError(try decode(.changes, zero), "a change's version is never 0")
    }

    func testTheLimitIsBounded() {
        for limit in [0, WireLimits.scanRowsMax + 1] {
            var b = body(.scan(chain: "c0", mapVersion: 0, range: KeyRange(), limit: 1))
            b.setInteger(UInt32(limit), at: b.writerIndex - 4)
            XCTAssertThrowsError(try decode(.scan, b), "limit \(limit)")
        }
    }

    func testBoundsAreAtMostOneByteLongerThanAKey() throws {
        let longest = [UInt8](repeating: 0x61, count: WireLimits.rangeBoundSizeMax)
        let ok = Message.scan(chain: "c0", mapVersion: 0, range: KeyRange(lower: longest, upper: longest), limit: 1)
        XCTAssertEqual(try decode(.scan, body(ok)), ok)
        let tooLong = Message.scan(chain: "c0", mapVersion: 0, range: KeyRange(lower: longest + [0x61], upper: nil), limit: 1)
        XCTAssertThrowsError(try decode(.scan, body(tooLong)))
    }

    func testPagesAreBoundedAndTheirRowsValidated() {
        var many = ByteBuffer()
        many.writeInteger(UInt32(WireLimits.scanRowsMax + 1))
        XCTAssertThrowsError(try decode(.scanPage, many), "a count is checked before anything is read")
        var zeroVersion = body(.scanPage(rows: [RangeRow(key: "k", value: VersionedValue([1], version: 1))], next: nil))
        zeroVersion.setInteger(UInt64(0), at: 4 + 2 + 1 + 4 + 1)
        XCTAssertThrowsError(try decode(.scanPage, zeroVersion), "versions start at 1")
        var badKey = body(.scanPage(rows: [RangeRow(key: "k", value: VersionedValue([1], version: 1))], next: nil))
        badKey.setInteger(UInt8(0), at: 4 + 2)
        XCTAssertThrowsError(try decode(.scanPage, badKey), "a key with a NUL byte")
    }
}

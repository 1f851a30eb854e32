import ChainCore
import NIOCore
import XCTest
@testable import ChainWire

/// Slot moves in a chain's history on the wire (`MessageCodec+MoveMarks`): a forward's move mark,
/// a watch answer's barriers and the `moveIn` request. Messages without them keep their bytes.
final class MoveMarkMessageTests: XCTestCase {
    static let barrier = MoveBarrier(slots: [3...5, 4000...4000], from: "c1", after: 0x1234_01)
    static let samples: [Message] = [
        .forward(epoch: 2, Update(seq: 81, key: "k", value: [7], move: .copy)),
        .forward(epoch: 2, Update(seq: 82, key: "k", value: nil, move: .purge)),
        .forward(epoch: 2, Update(seq: 83, key: "", value: nil, move: .barrier(barrier))),
        .changes(events: [Change(key: "a", value: [1], version: 0x0905), Change(barrier: barrier, version: 0x0a05),
                          Change(key: "a", value: nil, version: 0x0b05), Change(barrier: barrier, version: 0x0c05)], through: 0x0c05),
        .changes(events: [Change(barrier: barrier, version: 0x0105)], through: 0x0205),
        .onChain(chain: "c5", .moveIn(slots: [3...5, 4000...4000], from: "c1", after: 0x1234_01, mapVersion: 9)),
        .moveIn(slots: [0...0], from: "c0", after: 0, mapVersion: 1),
    ]

    func body(_ m: Message) -> [UInt8] {
        var b = ByteBuffer()
        MessageCodec.encodeBody(m, into: &b)
        return Array(b.readableBytesView)
    }

    func decode(_ kind: Message.Kind, _ bytes: [UInt8]) throws -> Message {
        var b = ByteBuffer(bytes: bytes)
        return try MessageCodec.decode(type: kind.rawValue, body: &b)
    }

    /// Written out by hand: a forward and a watch answer without marks are the bytes they were.
    func testUnmarkedMessagesKeepTheirBytes() {
        let plain: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 2,  0, 0, 0, 0, 0, 0, 0, 81,  0, 1, 0x6b,  1, 0, 0, 0, 1, 7,  0]
        XCTAssertEqual(body(.forward(epoch: 2, Update(seq: 81, key: "k", value: [7]))), plain)
        let failed: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 2,  0, 0, 0, 0, 0, 0, 0, 80,  0, 1, 0x6b,  0,  0,  0, 0, 0, 0, 0, 0, 0, 41]
        XCTAssertEqual(body(.forward(epoch: 2, Update(seq: 80, key: "k", value: nil, conditionFailed: 41))), failed)
        let changes: [UInt8] = [0, 0, 0, 1,  0, 1, 0x61,  1, 0, 0, 0, 1, 1,  0, 0, 0, 0, 0, 0, 9, 5,  0, 0, 0, 0, 0, 0, 10, 5]
        XCTAssertEqual(body(.changes(events: [Change(key: "a", value: [1], version: 0x0905)], through: 0x0a05)), changes)
    }

    /// Written out by hand: a mark follows the unmarked bytes as "no condition" and a tag.
    func testMarksAreTrailingFields() throws {
        let plain = body(.forward(epoch: 2, Update(seq: 81, key: "k", value: [7])))
        let copy = plain + Array(repeating: 0xff, count: 8) + [1]
        XCTAssertEqual(body(Self.samples[0]), copy)
        XCTAssertEqual(try decode(.forward, copy), Self.samples[0])
        let barrier: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 2,  0, 0, 0, 0, 0, 0, 0, 83,  0, 0,  0,  0]
            + Array(repeating: 0xff, count: 8) + [3,  2, 0x63, 0x31,  0, 0, 0, 0, 0, 0x12, 0x34, 0x01,  0, 2,  0, 3, 0, 5,  0x0f, 0xa0, 0x0f, 0xa0]
        XCTAssertEqual(body(Self.samples[2]), barrier)
        XCTAssertEqual(try decode(.forward, barrier), Self.samples[2])
    }

    func testBadMarksAreRefused() {
        let plain = body(.forward(epoch: 2, Update(seq: 81, key: "k", value: [7])))
        XCTAssertThrowsError(try decode(.forward, plain + Array(repeating: 0xff, count: 8) + [4]), "an unknown tag")
        XCTAssertThrowsError(try decode(.forward, plain + [0, 0, 0, 0, 0, 0, 0, 1, 1]), "a mark after a failed condition")
        XCTAssertThrowsError(try decode(.forward, plain + Array(repeating: 0xff, count: 8)), "no condition and no tag")
        // A barrier needs an empty key, and only a barrier may have one.
        var keyed = body(Self.samples[2])
        keyed.replaceSubrange(16..<18, with: [0, 1, 0x6b])
        XCTAssertThrowsError(try decode(.forward, keyed), "a barrier with a key")
        let unkeyed = body(.forward(epoch: 2, Update(seq: 81, key: "k", value: [7], move: .copy)))
        var empty = unkeyed
        empty.replaceSubrange(16..<19, with: [0, 0])
        XCTAssertThrowsError(try decode(.forward, empty), "a copy without a key")
    }

    func testBarriersArePlacedAmongTheChangesByVersion() throws {
        guard case .changes(let events, _) = try decode(.changes, body(Self.samples[3])) else { return XCTFail("not changes") }
        XCTAssertEqual(events.map(\.version), [0x0905, 0x0a05, 0x0b05, 0x0c05])
        XCTAssertEqual(events.map { $0.barrier != nil }, [false, true, false, true])
        // A barrier after `through`, or at a change's version, is refused.
        let late = body(.changes(events: [Change(barrier: Self.barrier, version: 0x0305)], through: 0x0205))
        XCTAssertThrowsError(try decode(.changes, late))
        let twice = body(.changes(events: [Change(key: "a", value: nil, version: 0x0305), Change(barrier: Self.barrier, version: 0x0305)],
                                  through: 0x0305))
        XCTAssertThrowsError(try decode(.changes, twice))
    }
}

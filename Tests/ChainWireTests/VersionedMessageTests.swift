import ChainCore
import NIOCore
import XCTest
@testable import ChainWire

/// The versioned messages (kinds 80...86) and the optional trailing fields added to `forward` and
/// `dataTransfer`: messages without them keep their bytes, and every new field is validated.
final class VersionedMessageTests: XCTestCase {
    static let samples: [Message] = [
        .getVersioned(key: "k"),
        .putVersioned(key: "k", value: [1], request: RequestID(client: 1, seq: 2), ifVersion: 0),
        .putVersioned(key: "k", value: [], request: nil, ifVersion: nil),
        .deleteVersioned(key: "k", request: RequestID(client: 1, seq: 3), ifVersion: .max),
        .deleteVersioned(key: "k", request: nil, ifVersion: nil),
        .versionedValue(nil), .versionedValue(VersionedValue([1, 2], version: 7)),
        .putVersionedResult(old: nil, version: 1), .putVersionedResult(old: [3], version: 9),
        .deleteVersionedResult(existed: false, version: 4), .conditionFailed(current: 0), .conditionFailed(current: 12),
        .forward(epoch: 2, Update(seq: 79, key: "k", value: nil, request: RequestID(client: 1, seq: 2), conditionFailed: 0)),
        .forward(epoch: 2, Update(seq: 80, key: "k", value: nil, request: nil, conditionFailed: 41)),
        .dataTransfer(epoch: 8, from: "n2", lastSeq: 100, rows: [Row(key: "a", value: [1], version: 1), Row(key: "b", value: [], version: 100)],
                      done: false),
        .outcomeTransfer(epoch: 8, from: "n2", lastSeq: 100, outcomes: [
            WriteOutcome(reply: .conditionFailed(current: 77), seq: 100, request: RequestID(client: 1, seq: 4)),
        ]),
    ]

    /// `m` without its optional trailing fields, when it has any: what a cut right before them decodes to.
    static func withoutTrailingFields(_ m: Message) -> Message? {
        switch m {
        case .forward(let epoch, var update) where update.conditionFailed != nil || (update.move != nil && update.barrier == nil):
            update.conditionFailed = nil
            update.move = nil
            return .forward(epoch: epoch, update)
        case .changes(let events, let through) where events.contains { $0.barrier != nil }:
            return .changes(events: events.filter { $0.barrier == nil }, through: through)
        case .dataTransfer(let epoch, let from, let lastSeq, let rows, let done) where rows.contains { $0.version != nil }:
            return .dataTransfer(epoch: epoch, from: from, lastSeq: lastSeq, rows: rows.map { Row(key: $0.key, value: $0.value) }, done: done)
        default:
            return nil
        }
    }

    func body(_ m: Message) -> ByteBuffer {
        var b = ByteBuffer()
        MessageCodec.encodeBody(m, into: &b)
        return b
    }

    func decode(_ kind: Message.Kind, _ bytes: ByteBuffer) throws -> Message {
        var b = bytes
        return try MessageCodec.decode(type: kind.rawValue, body: &b)
    }

    /// The old layouts, written out by hand: a forward and a transfer chunk without the new
    /// fields are byte for byte what they were.
    func testExistingEncodingsAreUnchanged() {
        var forward = ByteBuffer()
        forward.writeInteger(UInt64(2)); forward.writeInteger(UInt64(78))
        forward.writeInteger(UInt16(1)); forward.writeString("k")
        forward.writeInteger(UInt8(0))  // no value
        forward.writeInteger(UInt8(0))  // no request
        XCTAssertEqual(body(.forward(epoch: 2, Update(seq: 78, key: "k", value: nil))), forward)

        var chunk = ByteBuffer()
        chunk.writeInteger(UInt64(8)); chunk.writeInteger(UInt8(2)); chunk.writeString("n2")
        chunk.writeInteger(UInt64(100)); chunk.writeInteger(UInt8(1)); chunk.writeInteger(UInt32(1))
        chunk.writeInteger(UInt16(1)); chunk.writeString("a"); chunk.writeInteger(UInt32(1)); chunk.writeInteger(UInt8(9))
        XCTAssertEqual(body(.dataTransfer(epoch: 8, from: "n2", lastSeq: 100, rows: [Row(key: "a", value: [9])], done: true)), chunk)
        XCTAssertEqual(try decode(.dataTransfer, chunk), .dataTransfer(epoch: 8, from: "n2", lastSeq: 100, rows: [Row(key: "a", value: [9])], done: true),
                       "a chunk without versions still decodes (rows then take the snapshot's point)")
    }

    func testAFailedConditionCannotCarryAValue() {
        var b = body(.forward(epoch: 2, Update(seq: 78, key: "k", value: [1])))
        b.writeInteger(UInt64(5))
        XCTAssertThrowsError(try decode(.forward, b))
        var short = body(.forward(epoch: 2, Update(seq: 78, key: "k", value: nil)))
        short.writeInteger(UInt32(5))
        XCTAssertThrowsError(try decode(.forward, short), "a truncated trailing version")
    }

    /// A failed condition's version is a sequence number: one above Int64.max (which Update
    /// refuses with a precondition) is refused as a bad field, never decoded into a crash. The
    /// largest sequence number round-trips. (fuzz-wire in CI found UInt64.max, the "a move mark
    /// follows" value, failing to round-trip.)
    func testAFailedConditionsVersionIsASequenceNumber() throws {
        let largest = Message.forward(epoch: 2, Update(seq: 78, key: "k", value: nil, conditionFailed: UInt64(Int64.max)))
        XCTAssertEqual(try decode(.forward, body(largest)), largest)
        for bad in [UInt64(Int64.max) + 1, UInt64.max - 1, UInt64.max] {
            var b = body(.forward(epoch: 2, Update(seq: 78, key: "k", value: nil)))
            b.writeInteger(bad)
            XCTAssertThrowsError(try decode(.forward, b), "condition-failed version \(bad)")
        }
    }

    func testRowVersionsAreCheckedAgainstTheChunk() {
        let rows = [Row(key: "a", value: [1]), Row(key: "b", value: [2])]
        let plain = body(.dataTransfer(epoch: 1, from: "n", lastSeq: 10, rows: rows, done: false))
        var one = plain
        one.writeInteger(UInt64(3))
        XCTAssertThrowsError(try decode(.dataTransfer, one), "one version for two rows")
        var zero = plain
        zero.writeInteger(UInt64(0)); zero.writeInteger(UInt64(3))
        XCTAssertThrowsError(try decode(.dataTransfer, zero), "versions start at 1")
        var ahead = plain
        ahead.writeInteger(UInt64(3)); ahead.writeInteger(UInt64(11))
        XCTAssertThrowsError(try decode(.dataTransfer, ahead), "a row from a write after the snapshot's point")
        let mixed = body(.dataTransfer(epoch: 1, from: "n", lastSeq: 10, rows: [Row(key: "a", value: [1], version: 2), Row(key: "b", value: [2])], done: false))
        XCTAssertEqual(mixed, plain, "versions for some rows only: none are sent")
    }

    func testVersionsOfExistingKeysAndWritesAreNeverZero() {
        var value = ByteBuffer()
        value.writeInteger(UInt8(1)); value.writeInteger(UInt32(1)); value.writeInteger(UInt8(7)); value.writeInteger(UInt64(0))
        XCTAssertThrowsError(try decode(.versionedValue, value))
        var put = ByteBuffer()
        put.writeInteger(UInt8(0)); put.writeInteger(UInt64(0))
        XCTAssertThrowsError(try decode(.putVersionedResult, put))
        var delete = ByteBuffer()
        delete.writeInteger(UInt8(2)); delete.writeInteger(UInt64(1))
        XCTAssertThrowsError(try decode(.deleteVersionedResult, delete), "a bool is 0 or 1")
    }

    func testRequestsAreBoundedAndValidated() {
        var badKey = body(.putVersioned(key: "k", value: [1], request: nil, ifVersion: 3))
        badKey.setInteger(UInt16(WireLimits.keySizeMax + 1), at: 0)
        XCTAssertThrowsError(try decode(.putVersioned, badKey))
        var badPresence = ByteBuffer()
        badPresence.writeInteger(UInt16(1)); badPresence.writeString("k"); badPresence.writeInteger(UInt8(0)); badPresence.writeInteger(UInt8(2))
        XCTAssertThrowsError(try decode(.deleteVersioned, badPresence), "if-version presence is 0 or 1")
        var truncated = body(.deleteVersioned(key: "k", request: nil, ifVersion: 9))
        truncated.moveWriterIndex(to: truncated.writerIndex - 1)
        XCTAssertThrowsError(try decode(.deleteVersioned, truncated))
        var trailing = body(.getVersioned(key: "k"))
        trailing.writeInteger(UInt8(0))
        XCTAssertThrowsError(try decode(.getVersioned, trailing))
    }
}

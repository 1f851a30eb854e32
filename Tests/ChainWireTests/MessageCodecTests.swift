import ChainCore
import NIOCore
import XCTest
@testable import ChainWire

final class MessageCodecTests: XCTestCase {
    static let addr = NodeAddress(id: "n1", host: "127.0.0.1", port: 7001)
    static let samples: [Message] = [
        .get(key: "k"), .put(key: "ключ", value: [0, 1, 255], request: RequestID(client: 7, seq: 9)), .put(key: "e", value: [], request: nil),
        .delete(key: "k", request: nil), .delete(key: "k", request: RequestID(client: .max, seq: 0)),
        .getHead, .die(clean: true), .die(clean: false), .status,
        .statusReply(NodeStatus(id: "n3", epoch: 4, role: "tail", received: 10, durable: 9, stable: 8, uptimeMs: 1234, isLeader: true, inflight: 2)),
        .value(nil), .value([1, 2]), .putResult(old: nil), .putResult(old: [9]), .deleteResult(existed: true),
        .chain(ChainInfo(epoch: 3, members: [addr, NodeAddress(id: "n2", host: "localhost", port: 7002)])),
        .chain(ChainInfo(epoch: 0, members: [])),
        .dieAck, .error(.notHead, "not the head"),
        .hello(node: "n1", epoch: 9), .forward(epoch: 2, Update(seq: 77, key: "k", value: [1], request: RequestID(client: 1, seq: 2))),
        .forward(epoch: 2, Update(seq: 78, key: "k", value: nil, request: nil)),
        .ack(epoch: 2, seq: 78), .setSuccessor(epoch: 4, successor: addr), .setSuccessor(epoch: 4, successor: nil),
        .setTail(epoch: 5), .removeTail(epoch: 6), .startTransfer(epoch: 7, leader: "n3", to: addr),
        .dataTransfer(epoch: 8, from: "n2", lastSeq: 100, rows: [Row(key: "a", value: [1]), Row(key: "b", value: [])], done: true),
        .outcomeTransfer(epoch: 8, from: "n2", lastSeq: 100, outcomes: [
            WriteOutcome(seq: 99, request: RequestID(client: .max, seq: 3), kind: .putOldValue, old: [7, 0])!,
            WriteOutcome(seq: 100, request: RequestID(client: 1, seq: 4), kind: .deleteExisted, old: nil)!,
        ]),
        .ping(1), .pong(2),
        .authChallenge(nonce: Array(0..<32)), .authResponse(proof: Array(repeating: 7, count: 32), nonce: Array(32..<64)),
        .authOK(proof: Array(repeating: 0xff, count: 32)),
        .getSlots, .moved(slot: 4095, mapVersion: 7),
        .slots(ShardMap(version: 3, chains: [
            .init(id: "c0", slots: [0...10, 100...4095], chain: ChainInfo(epoch: 2, members: [addr])),
            .init(id: "c1", slots: [11...99], chain: ChainInfo(epoch: 0, members: [])),
        ])),
        .onChain(chain: "c1", .hello(node: "n1", epoch: 9)), .onChain(chain: "c17", .status),
        .onChain(chain: "c5", .purgeSlots(slots: [0...3, 4000...4095], mapVersion: 12)),
        .onChain(chain: "c0", .moveSlots(slots: [7...7], to: "c5", target: NodeAddress(id: "n6", host: "127.0.0.1", port: 7006),
                                         mapVersion: 13)),
        .onChain(chain: "c5", .put(key: "k", value: [1], request: nil)),
        .purgeSlots(slots: [4095...4095], mapVersion: 1), .decommission(server: "n5", cancel: false),
        .moveSlots(slots: [0...127], to: "c1", target: NodeAddress(id: "n1", host: "h", port: 1), mapVersion: 2),
        .onChain(chain: "c2", .dataTransfer(epoch: 8, from: "n2", lastSeq: 100, rows: [Row(key: "a", value: [1])], done: false)),
        .statusReply(NodeStatus(id: "n3", epoch: 4, role: "tail", received: 10, durable: 9, stable: 8, uptimeMs: 1, isLeader: false,
                                inflight: 0, chains: [ChainStatus(chain: "c0", epoch: 4, role: "tail", received: 10, durable: 9, stable: 8, inflight: 0),
                                                      ChainStatus(chain: "c3", epoch: 2, role: "head", received: 5, durable: 5, stable: 4, inflight: 1)])),
    ] + VersionedMessageTests.samples + RangeMessageTests.samples + MoveMarkMessageTests.samples + RelayMessageTests.samples

    func roundTrip(_ frame: Frame) throws -> Frame {
        var buffer = MessageCodec.encode(frame)
        var decoder = FrameDecoder()
        let raw = try XCTUnwrap(try decoder.nextFrame(&buffer))
        XCTAssertEqual(buffer.readableBytes, 0)
        return try raw.decode()
    }

    func testEveryMessageRoundTrips() throws {
        XCTAssertEqual(Set(Self.samples.map(\.kind.rawValue)), Set(Message.Kind.allCases.map(\.rawValue)), "a sample of every kind")
        for (i, m) in Self.samples.enumerated() {
            let f = Frame(requestID: UInt64(i) * 1_000_003, m)
            XCTAssertEqual(try roundTrip(f), f)
        }
    }

    func testNestedOnChainAndBadChainIDsAreRefused() {
        var nested = ByteBuffer()
        nested.writeInteger(UInt8(2)); nested.writeString("c1")
        nested.writeInteger(Message.Kind.onChain.rawValue)
        nested.writeInteger(UInt8(2)); nested.writeString("c2")
        nested.writeInteger(Message.Kind.status.rawValue)
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.onChain.rawValue, body: &nested))
        var empty = ByteBuffer()
        empty.writeInteger(UInt8(0))
        empty.writeInteger(Message.Kind.status.rawValue)
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.onChain.rawValue, body: &empty), "an empty chain id")
        var unknownInner = ByteBuffer()
        unknownInner.writeInteger(UInt8(2)); unknownInner.writeString("c1")
        unknownInner.writeInteger(UInt8(0x62))
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.onChain.rawValue, body: &unknownInner)) { error in
            if case WireError.unknownType = error { XCTFail("an onChain of an unknown type is malformed, not of an unknown type") }
        }
        var badSlot = ByteBuffer()
        badSlot.writeInteger(UInt16(4096)); badSlot.writeInteger(UInt64(1))
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.moved.rawValue, body: &badSlot), "slot out of range")
    }

    func testMaximalKeyAndValueFitInAFrame() throws {
        let f = Frame(requestID: 1, .put(key: String(repeating: "k", count: WireLimits.keySizeMax),
                                         value: [UInt8](repeating: 7, count: WireLimits.valueSizeMax), request: RequestID(client: 1, seq: 1)))
        XCTAssertEqual(try roundTrip(f), f)
    }

    func testEveryTruncationIsAnErrorNotACrash() throws {
        for m in Self.samples {
            let full = MessageCodec.encode(Frame(requestID: 5, m))
            let raw = full.getSlice(at: 4 + WireLimits.headerSize, length: full.readableBytes - 4 - WireLimits.headerSize)!
            for cut in 0..<raw.readableBytes {
                var body = raw.getSlice(at: raw.readerIndex, length: cut)!
                // A status reply's chain list is optional (absent for one chain): cut right before
                // it, the reply is a complete one without chains.
                if case .statusReply(var st) = m, !st.chains.isEmpty,
                   cut == MessageCodec.encode(Frame(requestID: 5, .statusReply({ st.chains = []; return st }()))).readableBytes - 4 - WireLimits.headerSize {
                    continue
                }
                // Likewise the optional trailing fields of a forward and a transfer chunk (versions).
                if let plain = VersionedMessageTests.withoutTrailingFields(m),
                   cut == MessageCodec.encode(Frame(requestID: 5, plain)).readableBytes - 4 - WireLimits.headerSize {
                    continue
                }
                XCTAssertThrowsError(try MessageCodec.decode(type: m.kind.rawValue, body: &body), "\(m) cut at \(cut)")
            }
        }
    }

    func testTrailingBytesAreRefused() {
        var body = ByteBuffer(bytes: [0, 1, 0x6b, 0xff])  // key "k" and one extra byte
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.get.rawValue, body: &body)) {
            XCTAssertEqual($0 as? WireError, .trailingBytes(1))
        }
    }

    func testOversizedKeyAndValueAreNamedErrors() {
        var body = ByteBuffer()
        body.writeInteger(UInt16(WireLimits.keySizeMax + 1))
        body.writeBytes([UInt8](repeating: 0x61, count: WireLimits.keySizeMax + 1))
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.get.rawValue, body: &body)) {
            XCTAssertEqual(($0 as? WireError)?.errorCode, .keyTooLarge)
        }
        var put = ByteBuffer()
        put.writeInteger(UInt16(1)); put.writeInteger(UInt8(0x61))
        put.writeInteger(UInt32(WireLimits.valueSizeMax + 1))  // the length alone is refused: no allocation
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.put.rawValue, body: &put)) {
            XCTAssertEqual(($0 as? WireError)?.errorCode, .valueTooLarge)
        }
    }

    func testBadKeysAreRefused() {
        let cases: [([UInt8], WireError)] = [([], .invalidKey("empty")), ([0x61, 0], .invalidKey("contains a NUL byte")),
                                             ([0xff, 0xfe], .invalidKey("not UTF-8")), ([0, 0xff], .invalidKey("not UTF-8"))]
        for (bytes, error) in cases {
            var body = ByteBuffer()
            body.writeInteger(UInt16(bytes.count)); body.writeBytes(bytes)
            XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.get.rawValue, body: &body), "\(bytes)") {
                XCTAssertEqual($0 as? WireError, error, "\(bytes)")
            }
        }
    }

    /// A key is read from where the reader is, not from the buffer's start: a put's key and value
    /// after bytes already consumed, in a buffer with room to spare.
    func testKeyIsReadFromTheReaderIndex() throws {
        var body = ByteBuffer()
        body.reserveCapacity(4096)
        body.writeBytes([9, 9, 9])
        MessageCodec.encodeBody(.put(key: "k\u{e9}y", value: [1, 2, 3], request: nil), into: &body)
        body.moveReaderIndex(forwardBy: 3)
        XCTAssertEqual(try MessageCodec.decode(type: Message.Kind.put.rawValue, body: &body), .put(key: "k\u{e9}y", value: [1, 2, 3], request: nil))
    }

    func testUnknownTypeAndBoolAndCounts() {
        var empty = ByteBuffer()
        XCTAssertThrowsError(try MessageCodec.decode(type: 200, body: &empty)) { XCTAssertEqual($0 as? WireError, .unknownType(200)) }
        var die = ByteBuffer(bytes: [2])
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.die.rawValue, body: &die))
        var chain = ByteBuffer()
        chain.writeInteger(UInt64(1)); chain.writeInteger(UInt16(WireLimits.membersMax + 1))
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.chain.rawValue, body: &chain))
        var transfer = ByteBuffer()
        transfer.writeInteger(UInt64(1)); transfer.writeInteger(UInt8(2)); transfer.writeString("n1")
        transfer.writeInteger(UInt64(1)); transfer.writeInteger(UInt8(0))
        transfer.writeInteger(UInt32.max)
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.dataTransfer.rawValue, body: &transfer))
    }

    func testOutcomeTransferRefusesUnknownKindsAndOldValuesWhereNoneBelongs() {
        func body(kind: UInt8, old: [UInt8]?, count: UInt32 = 1) -> ByteBuffer {
            var b = ByteBuffer()
            b.writeInteger(UInt64(1)); b.writeInteger(UInt8(2)); b.writeString("n1"); b.writeInteger(UInt64(9)); b.writeInteger(count)
            b.writeInteger(UInt64(9)); b.writeInteger(UInt64(5)); b.writeInteger(UInt64(6)); b.writeInteger(kind)
            if let old { b.writeInteger(UInt8(1)); b.writeInteger(UInt32(old.count)); b.writeBytes(old) } else { b.writeInteger(UInt8(0)) }
            return b
        }
        let type = Message.Kind.outcomeTransfer.rawValue
        var good = body(kind: 1, old: [1])
        XCTAssertEqual(try MessageCodec.decode(type: type, body: &good),
                       .outcomeTransfer(epoch: 1, from: "n1", lastSeq: 9, outcomes: [WriteOutcome(seq: 9, request: RequestID(client: 5, seq: 6), kind: .putOldValue, old: [1])!]))
        for (kind, old) in [(UInt8(5), nil), (0, [1]), (1, nil)] as [(UInt8, [UInt8]?)] {
            var bad = body(kind: kind, old: old)
            XCTAssertThrowsError(try MessageCodec.decode(type: type, body: &bad), "kind \(kind) old \(String(describing: old))")
        }
        var tooMany = body(kind: 0, old: nil, count: UInt32(WireLimits.transferChunkRowsMax + 1))
        XCTAssertThrowsError(try MessageCodec.decode(type: type, body: &tooMany))
    }
}

final class FrameDecoderTests: XCTestCase {
    func testFrameOverLimitIsRefusedFromItsLengthAlone() {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(WireLimits.frameSizeMax + 1))
        XCTAssertThrowsError(try decoder.nextFrame(&buffer)) { XCTAssertEqual($0 as? WireError, .frameTooLarge(WireLimits.frameSizeMax + 1)) }
    }

    func testFrameShorterThanHeaderIsRefused() {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: [0, 0, 0, 3, 1, 1, 0])
        XCTAssertThrowsError(try decoder.nextFrame(&buffer))
    }

    func testByteAtATimeDeliveryAndBackToBackFrames() throws {
        let frames = [Frame(requestID: 1, .get(key: "a")), Frame(requestID: 2, .put(key: "b", value: [1, 2, 3], request: nil))]
        var all = ByteBuffer()
        for f in frames { MessageCodec.encode(f, into: &all) }
        var decoder = FrameDecoder()
        var pending = ByteBuffer()
        var got: [Frame] = []
        while let byte = all.readInteger(as: UInt8.self) {
            pending.writeInteger(byte)
            while let raw = try decoder.nextFrame(&pending) { got.append(try raw.decode()) }
            pending.discardReadBytes()
        }
        XCTAssertEqual(got, frames)
    }

    func testWrongVersionIsAPerMessageError() throws {
        var buffer = MessageCodec.encode(Frame(requestID: 9, .getHead))
        buffer.setInteger(UInt8(2), at: 4)
        var decoder = FrameDecoder()
        let raw = try XCTUnwrap(try decoder.nextFrame(&buffer))
        XCTAssertEqual(raw.requestID, 9, "the request id survives so the server can answer")
        XCTAssertThrowsError(try raw.decode()) { XCTAssertEqual($0 as? WireError, .unsupportedVersion(2)) }
    }
}

final class FrameProgressTests: XCTestCase {
    func testFollowsFramesFedInPieces() {
        var stream = MessageCodec.encode(Frame(requestID: 1, .put(key: "k", value: [1, 2, 3], request: nil)))
        stream.writeImmutableBuffer(MessageCodec.encode(Frame(requestID: 2, .get(key: "key"))))
        let bytes = Array(stream.readableBytesView)
        let firstEnd = Int(MessageCodec.encode(Frame(requestID: 1, .put(key: "k", value: [1, 2, 3], request: nil))).readableBytes)
        // Byte by byte: inside a frame everywhere except right after each frame's last byte.
        var progress = FrameProgress()
        var completed = 0
        for (i, b) in bytes.enumerated() {
            completed += progress.consume(ByteBuffer(bytes: [b]))
            let atBoundary = i + 1 == firstEnd || i + 1 == bytes.count
            XCTAssertEqual(progress.insideFrame, !atBoundary, "after byte \(i)")
        }
        XCTAssertEqual(completed, 2)
        // All at once, and in uneven pieces.
        var whole = FrameProgress()
        XCTAssertEqual(whole.consume(ByteBuffer(bytes: bytes)), 2)
        XCTAssertFalse(whole.insideFrame)
        var pieces = FrameProgress()
        XCTAssertEqual(pieces.consume(ByteBuffer(bytes: bytes[0..<3])), 0)
        XCTAssertTrue(pieces.insideFrame)
        XCTAssertEqual(pieces.consume(ByteBuffer(bytes: bytes[3..<(firstEnd + 2)])), 1)
        XCTAssertTrue(pieces.insideFrame)
        XCTAssertEqual(pieces.consume(ByteBuffer(bytes: bytes[(firstEnd + 2)...])), 1)
        XCTAssertFalse(pieces.insideFrame)
    }
}

final class MoveCodecTests: XCTestCase {
    func decode(_ kind: Message.Kind, _ write: (inout ByteBuffer) -> Void) throws -> Message {
        var b = ByteBuffer()
        write(&b)
        return try MessageCodec.decode(type: kind.rawValue, body: &b)
    }

    func testSlotListsAreBoundedAscendingAndApart() {
        func ranges(_ pairs: [(UInt16, UInt16)]) -> (inout ByteBuffer) -> Void {
            { b in
                b.writeInteger(UInt16(pairs.count))
                for (a, z) in pairs { b.writeInteger(a); b.writeInteger(z) }
                b.writeInteger(UInt64(1))
            }
        }
        XCTAssertNoThrow(try decode(.purgeSlots, ranges([(0, 3), (5, 5)])))
        XCTAssertThrowsError(try decode(.purgeSlots, ranges([])), "no slots")
        XCTAssertThrowsError(try decode(.purgeSlots, ranges([(5, 5), (0, 3)])), "descending")
        XCTAssertThrowsError(try decode(.purgeSlots, ranges([(0, 3), (4, 5)])), "adjacent ranges have one encoding: joined")
        XCTAssertThrowsError(try decode(.purgeSlots, ranges([(3, 1)])), "inverted range")
        XCTAssertThrowsError(try decode(.purgeSlots, ranges([(4095, 4096)])), "no slot 4096")
        XCTAssertThrowsError(try decode(.purgeSlots, ranges([(0, UInt16(SlotMove.slotsMax))])), "more than slotsMax slots")
    }
}

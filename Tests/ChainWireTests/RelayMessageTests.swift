import ChainCore
import ChainWire
import NIOCore
import XCTest

final class RelayMessageTests: XCTestCase {
    static let samples: [Message] = [
        .relay(.get(key: "k")),
        .relay(.put(key: "k", value: [1, 2], request: RequestID(client: 7, seq: 9))),
        .relay(.delete(key: "k", request: RequestID(client: 7, seq: 10))),
        .relay(.getVersioned(key: "k")),
        .relay(.putVersioned(key: "k", value: [], request: RequestID(client: 1, seq: 2), ifVersion: 0)),
        .relay(.deleteVersioned(key: "k", request: nil, ifVersion: 12)),
    ]

    func decodeRelay(_ body: [UInt8]) throws -> Message {
        var buffer = ByteBuffer(bytes: body)
        return try MessageCodec.decode(type: Message.Kind.relay.rawValue, body: &buffer)
    }

    func testARelayOfAMaximalPutFitsInAFrame() throws {
        let put = Message.put(key: String(repeating: "k", count: WireLimits.keySizeMax),
                              value: [UInt8](repeating: 7, count: WireLimits.valueSizeMax), request: RequestID(client: 1, seq: 1))
        let frame = Frame(requestID: 3, .relay(put))
        var buffer = MessageCodec.encode(frame)
        var decoder = FrameDecoder()
        let raw = try XCTUnwrap(try decoder.nextFrame(&buffer))
        XCTAssertEqual(try raw.decode(), frame)
    }

    func testOnlyAKeyedClientRequestIsRelayed() {
        // A relay of a relay: refused at the inner type byte, so a frame of nested relays is never
        // decoded by a recursion as deep as the frame.
        var nested: [UInt8] = []
        for _ in 0..<10_000 { nested.append(Message.Kind.relay.rawValue) }
        XCTAssertThrowsError(try decodeRelay(nested))
        for kind in [Message.Kind.status, .die, .getSlots, .hello, .forward, .ack, .scan, .watch, .onChain, .value] {
            XCTAssertFalse(kind.isRelayable, "\(kind)")
            XCTAssertThrowsError(try decodeRelay([kind.rawValue]), "a relay of \(kind)")
        }
        XCTAssertThrowsError(try decodeRelay([0x7f]), "an unknown inner type") { error in
            if case WireError.unknownType = error { XCTFail("a relay of an unknown type is malformed, not of an unknown type") }
        }
        XCTAssertThrowsError(try decodeRelay([]), "no inner type")
        XCTAssertThrowsError(try decodeRelay([Message.Kind.get.rawValue, 0, 1]), "a truncated inner request")
    }
}

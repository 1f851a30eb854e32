import ChainCore
import ChainWire
import NIOCore
import XCTest

final class RelayMessageTests: XCTestCase {
    static let samples: [Message] = [
        .relay(chain: "c0", .get(key: "k")),
        .relay(chain: "c17", .put(key: "k", value: [1, 2], request: RequestID(client: 7, seq: 9))),
        .relay(chain: "c1", .delete(key: "k", request: RequestID(client: 7, seq: 10))),
        .relay(chain: "c2", .getVersioned(key: "k")),
        .relay(chain: "c3", .putVersioned(key: "k", value: [], request: RequestID(client: 1, seq: 2), ifVersion: 0)),
        .relay(chain: "c4", .deleteVersioned(key: "k", request: nil, ifVersion: 12)),
        .relayed(chain: "c0", .put(key: "k", value: [9], request: RequestID(client: 7, seq: 9))),
        .relayed(chain: "c5", .get(key: "k")),
        .relay(chain: "c1", .watch(chain: "c1", range: KeyRange(prefix: "a/"), after: 7, limit: 100, waitMs: 5000)),
        .relay(chain: "c2", .scan(chain: "c2", mapVersion: 4, range: KeyRange(prefix: "a/"), limit: 10)),
    ]

    /// Decodes a relay body of chain "c0" followed by `body`.
    func decodeRelay(_ body: [UInt8]) throws -> Message {
        var buffer = ByteBuffer(bytes: [2] + Array("c0".utf8) + body)
        return try MessageCodec.decode(type: Message.Kind.relay.rawValue, body: &buffer)
    }

    func testARelayOfAMaximalPutFitsInAFrame() throws {
        let put = Message.put(key: String(repeating: "k", count: WireLimits.keySizeMax),
                              value: [UInt8](repeating: 7, count: WireLimits.valueSizeMax), request: RequestID(client: 1, seq: 1))
        let frame = Frame(requestID: 3, .relay(chain: "c0", put))
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
        for kind in [Message.Kind.status, .die, .getSlots, .hello, .forward, .ack, .onChain, .value, .changes, .scanPage] {
            XCTAssertFalse(kind.isRelayable, "\(kind)")
            XCTAssertThrowsError(try decodeRelay([kind.rawValue]), "a relay of \(kind)")
        }
        XCTAssertThrowsError(try decodeRelay([0x7f]), "an unknown inner type") { error in
            if case WireError.unknownType = error { XCTFail("a relay of an unknown type is malformed, not of an unknown type") }
        }
        XCTAssertThrowsError(try decodeRelay([]), "no inner type")
        var relayedRelay = ByteBuffer(bytes: [2] + Array("c0".utf8) + [Message.Kind.relay.rawValue, 2] + Array("c0".utf8) + [Message.Kind.get.rawValue, 0, 1, 0x6b])
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.relayed.rawValue, body: &relayedRelay), "relayed never carries a relay")
        var noChain = ByteBuffer(bytes: [0, Message.Kind.get.rawValue, 0, 1, 0x6b])
        XCTAssertThrowsError(try MessageCodec.decode(type: Message.Kind.relay.rawValue, body: &noChain), "an empty chain id")
        XCTAssertEqual(try decodeRelay([Message.Kind.get.rawValue, 0, 1, 0x6b]), .relay(chain: "c0", .get(key: "k")))
        XCTAssertThrowsError(try decodeRelay([Message.Kind.get.rawValue, 0, 1]), "a truncated inner request")
    }
}

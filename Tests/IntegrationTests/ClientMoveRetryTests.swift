import ChainKV
import ChainWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

/// A write whose first attempt may have applied is retried only on the chain it was sent to:
/// a slot move copies values but not request outcomes, so another chain would take the retry as
/// a new write (torture `--grow` seed 4501). Driven against a scripted server, which drops the
/// connection on the first write (its answer is lost) and then reports the key's slot as moved.
final class ClientMoveRetryTests: XCTestCase {
    func testWriteRetryAfterTheSlotMovedReportsAnUnknownOutcome() async throws {
        let server = try await ScriptedServer.start(chainAfterDrop: "c2")
        defer { server.stop() }
        let client = try ChainKVClient(servers: ["127.0.0.1:\(server.port)"])
        defer { client.beginShutdown() }
        do {
            try await client.put("k", Array("v".utf8))
            XCTFail("the put must not succeed: its retry would reach another chain")
        } catch ChainKVError.chainFailure(let text) {
            XCTAssertTrue(text.contains("moved from chain c1 to chain c2"), text)
        }
        XCTAssertEqual(server.writes, 1, "the write was not sent to the chain that now owns the key")
    }

    func testWriteRetryOnTheSameChainIsSent() async throws {
        let server = try await ScriptedServer.start(chainAfterDrop: "c1")
        defer { server.stop() }
        let client = try ChainKVClient(servers: ["127.0.0.1:\(server.port)"])
        defer { client.beginShutdown() }
        let old = try await client.put("k", Array("v".utf8))
        XCTAssertNil(old)
        XCTAssertEqual(server.writes, 2, "the write was retried under its request id on the same chain")
        XCTAssertEqual(server.namedChains, [nil, "c1"], "the retry names its chain, so that no other chain takes it as a new write")
    }

    /// A server older than relays answers `relayed` as an unknown message type: the retry goes
    /// again as a plain put, as it did before relays, under the same request id.
    func testAServerOlderThanRelaysGetsThePlainRetry() async throws {
        let server = try await ScriptedServer.start(chainAfterDrop: "c1", knowsRelays: false)
        defer { server.stop() }
        let client = try ChainKVClient(servers: ["127.0.0.1:\(server.port)"])
        defer { client.beginShutdown() }
        let old = try await client.put("k", Array("v".utf8))
        XCTAssertNil(old)
        XCTAssertEqual(server.writes, 2, "the first attempt and the plain retry")
        XCTAssertEqual(server.namedChains, [nil, nil], "the retry after the refusal names no chain")
        XCTAssertEqual(server.refused, 1, "one retry named its chain and was refused")
    }

    func testReadRetryAfterTheSlotMovedIsSent() async throws {
        let server = try await ScriptedServer.start(chainAfterDrop: "c2")
        defer { server.stop() }
        let client = try ChainKVClient(servers: ["127.0.0.1:\(server.port)"])
        defer { client.beginShutdown() }
        let value = try await client.get("k")
        XCTAssertNil(value, "a read is retried wherever the key is")
    }
}

/// One server that is the head of every chain: `getSlots` names chain c1 as owner of every slot
/// until the first data request, which it answers by closing the connection; from then on the
/// owner is `chainAfterDrop`, and requests get answers.
private final class ScriptedServer: Sendable {
    let channel: Channel
    let port: Int
    private let state: NIOLockedValueBox<Script>

    var writes: Int { state.withLockedValue { $0.writes } }
    /// The chain each write named (`relayed`), nil for a plain put.
    var namedChains: [String?] { state.withLockedValue { $0.namedChains } }
    /// `relayed` requests answered as an unknown message type (`knowsRelays` false).
    var refused: Int { state.withLockedValue { $0.refused } }

    struct Script {
        var dropped = false
        var writes = 0
        var namedChains: [String?] = []
        var refused = 0
    }

    static func start(chainAfterDrop: String, knowsRelays: Bool = true) async throws -> ScriptedServer {
        let state = NIOLockedValueBox(Script())
        let portBox = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(FrameDecoder()), MessageToByteHandler(FrameEncoder()),
                        Handler(state: state, port: { portBox.withLockedValue { $0 } }, chainAfterDrop: chainAfterDrop,
                                knowsRelays: knowsRelays),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        portBox.withLockedValue { $0 = port }
        return ScriptedServer(channel: channel, port: port, state: state)
    }

    private init(channel: Channel, port: Int, state: NIOLockedValueBox<Script>) {
        self.channel = channel
        self.port = port
        self.state = state
    }

    func stop() { channel.close(promise: nil) }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = RawFrame
        typealias OutboundOut = Frame
        let state: NIOLockedValueBox<Script>
        let port: @Sendable () -> Int
        let chainAfterDrop: String
        /// false: a server from before relays, which answers `relayed` as an unknown type.
        let knowsRelays: Bool

        init(state: NIOLockedValueBox<Script>, port: @escaping @Sendable () -> Int, chainAfterDrop: String, knowsRelays: Bool) {
            self.state = state
            self.port = port
            self.chainAfterDrop = chainAfterDrop
            self.knowsRelays = knowsRelays
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let frame = try? unwrapInboundIn(data).decode() else { context.close(promise: nil); return }
            let reply: Message
            var message = frame.message
            var named: String?
            if case .relayed(let chain, let inner) = message {
                guard knowsRelays else {
                    state.withLockedValue { $0.refused += 1 }
                    let unknown = Message.error(.badRequest, "unknown message type \(Message.Kind.relayed.rawValue)")
                    context.writeAndFlush(wrapOutboundOut(Frame(requestID: frame.requestID, unknown)), promise: nil)
                    return
                }
                (named, message) = (chain, inner)
            }
            switch message {
            case .getSlots:
                let dropped = state.withLockedValue { $0.dropped }
                let head = NodeAddress(id: "n1", host: "127.0.0.1", port: port())
                reply = .slots(ShardMap(version: dropped ? 2 : 1, chains: [
                    .init(id: dropped ? chainAfterDrop : "c1", slots: [0...4095], chain: ChainInfo(epoch: 1, members: [head])),
                ]))
            case .put, .get:
                let dropFirst = state.withLockedValue { s -> Bool in
                    if case .put = message { s.writes += 1; s.namedChains.append(named) }
                    defer { s.dropped = true }
                    return !s.dropped
                }
                if dropFirst { context.close(promise: nil); return }
                reply = message.isPut ? .putResult(old: nil) : .value(nil)
            default:
                reply = .error(.badRequest, "not scripted")
            }
            context.writeAndFlush(wrapOutboundOut(Frame(requestID: frame.requestID, reply)), promise: nil)
        }
    }
}

private extension Message {
    var isPut: Bool {
        if case .put = self { return true }
        return false
    }
}

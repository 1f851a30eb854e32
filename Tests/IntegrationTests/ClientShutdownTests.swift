import ChainKV
import ChainWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

/// `await ChainKVClient.shutdown()` returns once every connection of the client is closed: the
/// connection to the head, and a probe still waiting for its answer. Driven against a scripted
/// server that counts the connections open on its side.
final class ClientShutdownTests: XCTestCase {
    func testShutdownReturnsOnceTheConnectionsAreClosed() async throws {
        let server = try await CountingServer.start(silent: false)
        defer { server.stop() }
        let client = try ChainKVClient(servers: ["127.0.0.1:\(server.port)"])
        let value = try await client.get("k")
        XCTAssertNil(value)
        XCTAssertGreaterThanOrEqual(client.openConnections, 1)
        await client.shutdown()
        XCTAssertEqual(client.openConnections, 0, "shutdown returned before its connections closed")
        try await server.waitUntilNoneOpen()
        do {
            _ = try await client.get("k")
            XCTFail("a shut-down client must not work")
        } catch ChainKVError.network(let text) {
            XCTAssertTrue(text.contains("shut down"), text)
        }
    }

    /// A shutdown while the client is still asking a server that does not answer closes that
    /// connection too, and the request in flight fails.
    func testShutdownClosesAProbeInFlight() async throws {
        let server = try await CountingServer.start(silent: true)
        defer { server.stop() }
        var options = ChainKVClient.Options()
        options.probeTimeout = .seconds(30)
        options.retryBudget = .seconds(60)
        let client = try ChainKVClient(servers: ["127.0.0.1:\(server.port)"], options: options)
        let request = Task { try await client.get("k") }
        let deadline = ContinuousClock.now + .seconds(10)
        while server.open == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(server.open, 1, "the client did not connect")
        let started = ContinuousClock.now
        await client.shutdown()
        XCTAssertEqual(client.openConnections, 0)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "shutdown waited for the probe's timeout")
        try await server.waitUntilNoneOpen()
        do {
            _ = try await request.value
            XCTFail("the request in flight must fail")
        } catch is ChainKVError {
        }
    }
}

/// Names itself the head of one chain owning every slot and answers `get` with "absent"; or,
/// `silent`, answers nothing. Counts the connections open on its side.
private final class CountingServer: Sendable {
    let channel: Channel
    let port: Int
    private let openBox: NIOLockedValueBox<Int>

    var open: Int { openBox.withLockedValue { $0 } }

    static func start(silent: Bool) async throws -> CountingServer {
        let openBox = NIOLockedValueBox(0)
        let portBox = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(FrameDecoder()), MessageToByteHandler(FrameEncoder()),
                        Handler(open: openBox, port: { portBox.withLockedValue { $0 } }, silent: silent),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        portBox.withLockedValue { $0 = port }
        return CountingServer(channel: channel, port: port, open: openBox)
    }

    private init(channel: Channel, port: Int, open: NIOLockedValueBox<Int>) {
        self.channel = channel
        self.port = port
        self.openBox = open
    }

    func stop() { channel.close(promise: nil) }

    /// The client's close reaches this side a moment after the client saw it complete.
    func waitUntilNoneOpen() async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while open > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(open, 0, "the server still sees connections of the shut-down client")
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = RawFrame
        typealias OutboundOut = Frame
        let open: NIOLockedValueBox<Int>
        let port: @Sendable () -> Int
        let silent: Bool

        init(open: NIOLockedValueBox<Int>, port: @escaping @Sendable () -> Int, silent: Bool) {
            self.open = open
            self.port = port
            self.silent = silent
        }

        func channelActive(context: ChannelHandlerContext) {
            open.withLockedValue { $0 += 1 }
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            open.withLockedValue { $0 -= 1 }
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !silent else { return }
            guard let frame = try? unwrapInboundIn(data).decode() else { context.close(promise: nil); return }
            let reply: Message
            switch frame.message {
            case .getSlots:
                let head = NodeAddress(id: "n1", host: "127.0.0.1", port: port())
                reply = .slots(ShardMap(version: 1, chains: [.init(id: "c1", slots: [0...4095], chain: ChainInfo(epoch: 1, members: [head]))]))
            case .get:
                reply = .value(nil)
            default:
                reply = .error(.badRequest, "not scripted")
            }
            context.writeAndFlush(wrapOutboundOut(Frame(requestID: frame.requestID, reply)), promise: nil)
        }
    }
}

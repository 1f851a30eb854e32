import ChainTransport
import ChainWire
import NIOCore
import NIOPosix
import XCTest

/// `Connection` against a scripted server on loopback: a `get` of any key but "silent" is
/// answered with the key's bytes; "silent" is never answered. The server counts the reads its
/// socket delivered.
final class ConnectionTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!
    private var server: Channel!
    private let reads = Reads()

    override func setUpWithError() throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let reads = self.reads
        server = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // One read takes everything the socket holds, so the count is the number of arrivals.
            .childChannelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 1 << 16))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ReadCounter(reads), ByteToMessageHandler(FrameDecoder()), MessageToByteHandler(FrameEncoder()), ScriptedServer(),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    override func tearDownWithError() throws {
        try server.close().wait()
        try group.syncShutdownGracefully()
    }

    private func connect() async throws -> Connection {
        try await Connection.connect(host: "127.0.0.1", port: server.localAddress!.port!, group: group, timeout: .seconds(2))
    }

    func testPipelinedRequestsGetTheirOwnReplies() async throws {
        let connection = try await connect()
        defer { connection.close() }
        let futures = (0..<200).map { connection.send(.get(key: "k\($0)"), timeout: .seconds(5)) }
        for (i, future) in futures.enumerated() {
            let reply = try await future.get()
            XCTAssertEqual(reply, .value(Array("k\(i)".utf8)))
        }
    }

    /// Each unanswered request fails at its own deadline (one timer per connection serves them
    /// all, re-armed for an earlier deadline sent later); answered ones are not disturbed.
    func testUnansweredRequestsTimeOutAtTheirOwnDeadlines() async throws {
        let connection = try await connect()
        defer { connection.close() }
        let start = NIODeadline.now()
        let long = connection.send(.get(key: "silent"), timeout: .milliseconds(900))
        let answered = connection.send(.get(key: "here"), timeout: .milliseconds(100))
        let short = connection.send(.get(key: "silent"), timeout: .milliseconds(200))
        let reply = try await answered.get()
        XCTAssertEqual(reply, .value(Array("here".utf8)))
        for (future, ms) in [(short, 200), (long, 900)] {
            do {
                _ = try await future.get()
                XCTFail("an unanswered request succeeded")
            } catch let error as ChainKVError {
                let elapsed = (NIODeadline.now() - start).nanoseconds / 1_000_000
                guard case .timeout(let text) = error else { return XCTFail("expected a timeout, got \(error)") }
                XCTAssertTrue(text.contains("\(ms) ms"), text)
                XCTAssertGreaterThanOrEqual(elapsed, Int64(ms))
                XCTAssertLessThan(elapsed, Int64(ms) + 500, "failed at its deadline, not a later one")
            }
        }
        // The connection is still usable after timeouts.
        let after = try await connection.send(.get(key: "after"), timeout: .seconds(2)).get()
        XCTAssertEqual(after, .value(Array("after".utf8)))
    }

    /// Requests sent in one turn of the connection's loop leave in one write: the server gets
    /// them in one read (a write per request arrived in dozens).
    func testRequestsOfOneLoopTurnLeaveTogether() async throws {
        let connection = try await connect()
        defer { connection.close() }
        // Settle the connection: its handshake-free first request and reply.
        _ = try await connection.send(.get(key: "warm"), timeout: .seconds(2)).get()
        let before = reads.count
        let futures = try await connection.channel.eventLoop.submit {
            (0..<64).map { connection.send(.get(key: "k\($0)"), timeout: .seconds(5)) }
        }.get()
        for future in futures { _ = try await future.get() }
        XCTAssertLessThanOrEqual(reads.count - before, 2, "64 requests of one loop turn arrived in \(reads.count - before) reads")
    }

    func testClosingFailsWhatIsInFlight() async throws {
        let connection = try await connect()
        let silent = connection.send(.get(key: "silent"), timeout: .seconds(30))
        _ = try await connection.send(.get(key: "sync"), timeout: .seconds(2)).get()
        connection.close()
        do {
            _ = try await silent.get()
            XCTFail("a request in flight on a closed connection succeeded")
        } catch let error as ChainKVError {
            guard case .chainFailure = error else { return XCTFail("expected a chain failure, got \(error)") }
        }
    }
}

/// The reads the server's sockets delivered.
private final class Reads: @unchecked Sendable {
    private let lock = NSLock()
    private var reads = 0
    var count: Int { lock.withLock { reads } }
    func add() { lock.withLock { reads += 1 } }
}

/// Counts each socket read into `Reads`.
private final class ReadCounter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let reads: Reads
    init(_ reads: Reads) { self.reads = reads }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reads.add()
        context.fireChannelRead(data)
    }
}

/// Answers `get(key)` with the key's bytes, except "silent".
private final class ScriptedServer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = RawFrame
    typealias OutboundOut = Frame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let raw = unwrapInboundIn(data)
        guard let frame = try? raw.decode(), case .get(let key) = frame.message, key != "silent" else { return }
        context.write(wrapOutboundOut(Frame(requestID: frame.requestID, .value(Array(key.utf8)))), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

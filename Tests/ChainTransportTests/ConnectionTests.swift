@testable import ChainTransport
import ChainWire
import NIOCore
import NIOPosix
import XCTest

/// `Connection` against a scripted server on loopback: a `get` of a key is answered with the
/// key's bytes, unless the key starts with "silent": those are never answered. The server notes
/// every key it got.
final class ConnectionTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!
    private var server: Channel!
    private let seen = SeenKeys()

    override func setUpWithError() throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let seen = self.seen
        server = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(FrameDecoder()), MessageToByteHandler(FrameEncoder()), ScriptedServer(seen: seen),
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
        let long = connection.send(.get(key: "silent"), timeout: .milliseconds(3000))
        let answered = connection.send(.get(key: "here"), timeout: .milliseconds(2000))
        let short = connection.send(.get(key: "silent"), timeout: .milliseconds(1000))
        let reply = try await within(answered)
        XCTAssertEqual(reply, .value(Array("here".utf8)))
        for (future, ms) in [(short, 1000), (long, 3000)] {
            do {
                _ = try await within(future)
                XCTFail("an unanswered request succeeded")
            } catch let error as ChainKVError {
                let elapsed = (NIODeadline.now() - start).nanoseconds / 1_000_000
                guard case .timeout(let text) = error else { return XCTFail("expected a timeout, got \(error)") }
                XCTAssertTrue(text.contains("\(ms) ms"), text)
                XCTAssertGreaterThanOrEqual(elapsed, Int64(ms))
                // The short one fails long before the long one's deadline (a timer left armed for
                // the first deadline would fail both at 3 s).
                XCTAssertLessThan(elapsed, Int64(ms) + 1500, "failed at its deadline, not a later one")
            }
        }
        // The connection is still usable after timeouts.
        let after = try await connection.send(.get(key: "after"), timeout: .seconds(5)).get()
        XCTAssertEqual(after, .value(Array("after".utf8)))
    }

    /// Requests sent in one turn of the connection's loop share one flush (one `writev`), where
    /// each used to flush (a system call and a segment per request).
    func testRequestsOfOneLoopTurnShareOneFlush() async throws {
        let connection = try await connect()
        defer { connection.close() }
        let flushes = FlushCounter()
        try await connection.channel.pipeline.addHandler(flushes, position: .first).get()
        let futures = try await connection.channel.eventLoop.submit {
            (0..<64).map { connection.send(.get(key: "k\($0)"), timeout: .seconds(10)) }
        }.get()
        for (i, future) in futures.enumerated() {
            let reply = try await future.get()
            XCTAssertEqual(reply, .value(Array("k\(i)".utf8)))
        }
        let count = try await connection.channel.eventLoop.submit { flushes.count }.get()
        XCTAssertEqual(count, 1, "64 requests of one loop turn, flushes")
    }

    /// A task that prefers the connection's loop (`EventLoopExecutor`) sends each request from
    /// the loop's thread and is resumed by its reply on that thread: no thread switch per request.
    /// On the default executor the task runs on the cooperative pool, never on the loop.
    func testATaskOnTheLoopsExecutorStaysOnTheLoop() async throws {
        let connection = try await connect()
        defer { connection.close() }
        let loop = connection.channel.eventLoop
        let onLoop = try await withTaskExecutorPreference(EventLoopExecutor(loop)) {
            var count = 0
            for i in 0..<50 {
                let reply = try await connection.request(.get(key: "k\(i)"), timeout: .seconds(5))
                XCTAssertEqual(reply, .value(Array("k\(i)".utf8)))
                if loop.inEventLoop { count += 1 }
            }
            return count
        }
        XCTAssertEqual(onLoop, 50, "requests after which the task ran on the connection's loop")
        let reply = try await connection.request(.get(key: "pool"), timeout: .seconds(5))
        XCTAssertEqual(reply, .value(Array("pool".utf8)))
        XCTAssertFalse(loop.inEventLoop, "without the preference the task resumes on the cooperative pool")
    }

    /// `request` resumes the awaiting task straight from the reply (`ReplySlot`, no future): each
    /// of many concurrent callers gets its own reply, and a timeout, a full connection, a close
    /// with the request in flight and a request on a closed connection each end the call with
    /// their own error. Every wait is bounded (`awaited`): a continuation never resumed fails the
    /// test instead of hanging the suite.
    func testAwaitedRequestsEndWithTheirReplyOrTheirError() async throws {
        let connection = try await connect()
        let loop = connection.channel.eventLoop
        let replies = try await awaited(on: loop) {
            try await withThrowingTaskGroup(of: (Int, Message).self) { group in
                for i in 0..<100 {
                    group.addTask { (i, try await connection.request(.get(key: "c\(i)"), timeout: .seconds(5))) }
                }
                return try await group.reduce(into: [Int: Message]()) { $0[$1.0] = $1.1 }
            }
        }
        XCTAssertEqual(replies.count, 100)
        for (i, reply) in replies { XCTAssertEqual(reply, .value(Array("c\(i)".utf8))) }

        let timedOut = await failure(on: loop) { try await connection.request(.get(key: "silent"), timeout: .milliseconds(300)) }
        guard case .timeout? = timedOut else { return XCTFail("expected a timeout, got \(String(describing: timedOut))") }

        // A connection (another one) with `inflightMax` requests pending refuses the next at once.
        let full = try await connect()
        let held = (0..<ResponseHandler.inflightMax).map { full.send(.get(key: "silent-\($0)"), timeout: .seconds(30)) }
        let refused = await failure(on: full.channel.eventLoop) { try await full.request(.get(key: "one-more"), timeout: .seconds(5)) }
        full.close()
        for future in held { _ = try? await within(future) }
        guard case .server(.overloaded, _)? = refused else { return XCTFail("expected overloaded, got \(String(describing: refused))") }

        let seen = self.seen
        let inFlight = loop.makePromise(of: Message.self)
        inFlight.completeWithTask { try await connection.request(.get(key: "silent-in-flight"), timeout: .seconds(30)) }
        let deadline = NIODeadline.now() + .seconds(5)
        while !seen.contains("silent-in-flight"), NIODeadline.now() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(seen.contains("silent-in-flight"), "the request reached the server before the close")
        connection.close()
        let closed = await failure(on: loop) { try await inFlight.futureResult.get() }
        guard case .chainFailure? = closed else { return XCTFail("expected a chain failure, got \(String(describing: closed))") }

        await connection.waitUntilClosed()
        let late = await failure(on: loop) { try await connection.request(.get(key: "late"), timeout: .seconds(5)) }
        guard case .network? = late else { return XCTFail("expected a network error, got \(String(describing: late))") }
    }

    /// A request sent and closed at once still reaches the server: the close flushes first (a
    /// close drops writes not yet flushed, and the request's own flush is queued behind it).
    func testARequestSentJustBeforeCloseStillGoesOut() async throws {
        let connection = try await connect()
        _ = connection.send(.get(key: "last-words"), timeout: .seconds(10))
        connection.close()
        let deadline = NIODeadline.now() + .seconds(5)
        while !seen.contains("last-words"), NIODeadline.now() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        XCTAssertTrue(seen.contains("last-words"), "the server got the request sent before the close")
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

/// Not a reply, not a timeout: the test gives up on a future after 10 s instead of hanging.
private struct GaveUp: Error {}

/// Set once, on the future's loop only.
private final class Once: @unchecked Sendable {
    var done = false
}

/// `future`'s result, or `GaveUp` after 10 s.
/// `body` within `within`'s bound: a continuation never resumed fails the test instead of
/// hanging it.
private func awaited<T: Sendable>(on loop: EventLoop, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let promise = loop.makePromise(of: T.self)
    promise.completeWithTask(body)
    return try await within(promise.futureResult)
}

/// The `ChainKVError` that `body` ended with (nil: it succeeded, or failed otherwise), within
/// `within`'s bound.
private func failure<T: Sendable>(on loop: EventLoop, _ body: @escaping @Sendable () async throws -> T) async -> ChainKVError? {
    do {
        _ = try await awaited(on: loop, body)
        return nil
    } catch {
        return error as? ChainKVError
    }
}

private func within<T: Sendable>(_ future: EventLoopFuture<T>) async throws -> T {
    let loop = future.eventLoop
    let once = Once()
    let result = loop.makePromise(of: T.self)
    future.whenComplete { outcome in
        guard !once.done else { return }
        once.done = true
        result.completeWith(outcome)
    }
    let watchdog = loop.scheduleTask(in: .seconds(10)) {
        guard !once.done else { return }
        once.done = true
        result.fail(GaveUp())
    }
    defer { watchdog.cancel() }
    return try await result.futureResult.get()
}

/// The keys of the gets the server received.
private final class SeenKeys: @unchecked Sendable {
    private let lock = NSLock()
    private var keys: Set<String> = []
    func insert(_ key: String) { _ = lock.withLock { keys.insert(key) } }
    func contains(_ key: String) -> Bool { lock.withLock { keys.contains(key) } }
}

/// Counts the flushes that pass it on the client's pipeline. Confined to the channel's loop.
private final class FlushCounter: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = Any
    private(set) var count = 0

    func flush(context: ChannelHandlerContext) {
        count += 1
        context.flush()
    }
}

/// Answers `get(key)` with the key's bytes, except keys that start with "silent".
private final class ScriptedServer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = RawFrame
    typealias OutboundOut = Frame
    private let seen: SeenKeys
    init(seen: SeenKeys) { self.seen = seen }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let raw = unwrapInboundIn(data)
        guard let frame = try? raw.decode(), case .get(let key) = frame.message else { return }
        seen.insert(key)
        guard !key.hasPrefix("silent") else { return }
        context.write(wrapOutboundOut(Frame(requestID: frame.requestID, .value(Array(key.utf8)))), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

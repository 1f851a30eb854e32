import ChainCore
import ChainKV
import ChainWire
import Foundation
import NIOCore
import XCTest

/// Clients that connect and then send nothing, or a byte a second, or too many writes, cannot
/// exhaust a server: idle and frame-read timeouts close them, the connection limit refuses extra
/// ones with an error naming it, and normal clients keep working meanwhile.
final class SlowClientTests: XCTestCase {
    /// The acceptance test of issue 7: 500 idle connections and 50 connections trickling one byte
    /// a second, held while a normal client keeps writing and reading; the server's memory stays
    /// bounded, tricklers are cut off after the frame-read timeout and idle ones after the idle
    /// timeout (both shortened for the test).
    func testIdleAndTricklingConnectionsDoNotStarveNormalClients() throws {
        let idleMs = 8000, frameMs = 2000
        let cluster = try ClusterFixture(size: 1, serverArguments: [
            "--idle-timeout-ms", "\(idleMs)", "--frame-read-timeout-ms", "\(frameMs)", "--max-connections", "1024",
        ])
        defer { cluster.stop() }
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        try blockingTest { try await client.put("warm", Array("up".utf8)) }
        let rssBefore = try Self.residentKiB(pid: cluster.pid(0))

        // 500 idle connections: they send nothing at all.
        let idleOpened = Date()
        var idle: [RawConnection] = []
        for _ in 0..<500 { idle.append(try RawConnection(host: "127.0.0.1", port: cluster.nodes[0].port)) }
        defer { idle.forEach { $0.close() } }

        // 50 tricklers: each sends a get frame one byte a second and reconnects when cut off.
        let trickle = Trickle(port: cluster.nodes[0].port, count: 50)
        trickle.start()
        defer { trickle.stop() }

        // A normal client meanwhile: puts and gets for 6 s, each timed.
        var latencies: [Double] = []
        var n = 0
        let loadEnd = Date().addingTimeInterval(6)
        while Date() < loadEnd {
            let key = "k\(n % 50)", value = Array("v\(n)".utf8)
            let t0 = Date()
            try blockingTest { try await client.put(key, value) }
            XCTAssertEqual(try blockingTest { try await client.get(key) }, value)
            latencies.append(Date().timeIntervalSince(t0))
            n += 1
        }
        let rssLoaded = try Self.residentKiB(pid: cluster.pid(0))
        latencies.sort()
        let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        print("slow clients: \(latencies.count) put+get pairs, p50 \(Int(latencies[latencies.count / 2] * 1000)) ms, p99 \(Int(p99 * 1000)) ms; "
              + "server VmRSS \(rssBefore) KiB before, \(rssLoaded) KiB with 550 connections")
        XCTAssertGreaterThan(latencies.count, 50, "the normal client kept going (\(latencies.count) put+get pairs in 6 s)")
        XCTAssertLessThan(p99, 1.0, "put+get p99 \(p99) s with 550 hostile connections open")
        // Memory: 550 connections cost the server little; a generous bound catches per-connection buffers.
        XCTAssertLessThan(rssLoaded - rssBefore, 64 << 10, "VmRSS grew from \(rssBefore) KiB to \(rssLoaded) KiB")

        // Every trickler was cut off by the frame-read timeout (6 s of load, a 2 s limit).
        trickle.stop()
        XCTAssertGreaterThanOrEqual(trickle.cutOff, 50, "tricklers closed by the server: \(trickle.cutOff)")
        XCTAssertTrue(cluster.log(0).contains("did not finish a frame in time"))

        // The idle ones are closed after the idle timeout, each with an error frame naming it.
        let waitUntil = idleOpened.addingTimeInterval(Double(idleMs) / 1000 + 5)
        idle[0].setReceiveTimeout(milliseconds: Int(max(100, waitUntil.timeIntervalSinceNow * 1000)))
        var first = try idle[0].readFrame()
        if case .authChallenge = first.message { first = try idle[0].readFrame() }
        guard case .error(.limitReached, let text) = first.message else { return XCTFail("\(first)") }
        XCTAssertTrue(text.contains("idleTimeoutMs"), text)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(idleOpened), Double(idleMs) / 1000 - 0.5, "not before the idle timeout")
        var stillOpen = 0
        for c in idle {
            c.setReceiveTimeout(milliseconds: Int(max(100, waitUntil.timeIntervalSinceNow * 1000)))
            if !c.waitClosedByPeer() { stillOpen += 1 }
        }
        XCTAssertEqual(stillOpen, 0, "idle connections the server did not close")

        // And the server still serves, with its data.
        XCTAssertEqual(try blockingTest { try await client.get("warm") }, Array("up".utf8))
    }

    /// A connection over `maxConnections` gets an error frame naming the limit and is closed at
    /// once; the ones within it keep working, and closing some makes room again.
    func testConnectionOverTheLimitIsRefusedWithAnErrorNamingIt() throws {
        let cluster = try ClusterFixture(size: 1, serverArguments: ["--max-connections", "20"])
        defer { cluster.stop() }
        var held: [RawConnection] = []
        var refused = 0
        for _ in 0..<30 {
            let c = try RawConnection(host: "127.0.0.1", port: cluster.nodes[0].port)
            c.setReceiveTimeout(milliseconds: 500)
            if let frame = try? c.readFrame() {
                guard case .error(.limitReached, let text) = frame.message else { return XCTFail("\(frame)") }
                XCTAssertTrue(text.contains("maxConnections (20)"), text)
                XCTAssertTrue(c.waitClosedByPeer(), "closed after the error")
                c.close()
                refused += 1
            } else {
                held.append(c)
            }
        }
        // The server's own leader link to itself may take one slot.
        XCTAssertTrue((19...20).contains(held.count), "held \(held.count), refused \(refused)")
        XCTAssertEqual(held.count + refused, 30)
        // A held connection works.
        var get = ByteBuffer()
        get.writeInteger(UInt16(1)); get.writeString("x")
        XCTAssertEqual(try held[0].request(type: Message.Kind.get.rawValue, requestID: 5, body: get), Frame(requestID: 5, .value(nil)))
        XCTAssertTrue(cluster.log(0).contains("connection limit reached"))
        // Counted in the metrics: every refusal, the open connections (ours, and the leader's
        // link to itself if it holds a slot) and the limit.
        let scrape = DashboardMetricsTests.samples(try TestEnvironment.run("/usr/bin/curl", ["-sf", "http://\(cluster.metricsAddress(0))/metrics"],
                                                                           timeout: 10).output)
        XCTAssertEqual(DashboardMetricsTests.value(scrape, "chainkv_connections_refused_total"), Double(refused))
        XCTAssertEqual(DashboardMetricsTests.value(scrape, "chainkv_connections_max"), 20)
        XCTAssertEqual(DashboardMetricsTests.value(scrape, "chainkv_connections_open").map { $0 >= Double(held.count) && $0 <= 20 }, true)
        // Room again once some close.
        for c in held.suffix(5) { c.close() }
        held.removeLast(5)
        usleep(300_000)
        let client = try ChainKVClient(servers: cluster.servers)
        defer { client.beginShutdown() }
        try blockingTest { try await client.put("a", [1]) }
        XCTAssertEqual(try blockingTest { try await client.get("a") }, [1])
        held.forEach { $0.close() }
    }

    /// One connection may have `writesInFlightPerConnectionMax` writes in flight; the writes past
    /// it get `overloaded` naming the limit at once, and the others complete.
    func testWritesInFlightPerConnectionAreBounded() throws {
        let cluster = try ClusterFixture(size: 2)
        defer { cluster.stop() }
        let head = try cluster.chainInfo().head!
        let tail = cluster.nodes.firstIndex { $0.port != head.port }!
        let raw = try RawConnection(host: head.host, port: head.port)
        defer { raw.close() }
        // With the tail stopped, no write can commit: all stay in flight.
        kill(cluster.pid(tail), SIGSTOP)
        let limit = 1024, extra = 76
        for i in 0..<(limit + extra) {
            raw.send(Frame(requestID: UInt64(i + 1), .put(key: "w\(i)", value: [1], request: RequestID(client: 99, seq: UInt64(i + 1)))))
        }
        var overloaded = 0
        for _ in 0..<extra {
            let frame = try raw.readFrame()
            guard case .error(.overloaded, let text) = frame.message else {
                kill(cluster.pid(tail), SIGCONT)
                return XCTFail("expected overloaded first, got \(frame)")
            }
            XCTAssertTrue(text.contains("writesInFlightPerConnectionMax"), text)
            XCTAssertGreaterThan(frame.requestID, UInt64(limit), "the writes past the limit are refused")
            overloaded += 1
        }
        kill(cluster.pid(tail), SIGCONT)
        raw.setReceiveTimeout(milliseconds: 30_000)
        var completed = 0
        for _ in 0..<limit {
            let frame = try raw.readFrame()
            if case .putResult = frame.message { completed += 1 } else { XCTAssertNotEqual(frame.message.kind, .error, "\(frame)") }
        }
        XCTAssertEqual(overloaded, extra)
        XCTAssertEqual(completed, limit)
    }

    /// VmRSS of a process, from /proc.
    static func residentKiB(pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else {
            throw FixtureError("no VmRSS for \(pid)")
        }
        return kib
    }
}

/// Connections that each send a frame one byte a second from one background thread, and open a
/// new connection whenever the server closes one.
final class Trickle: @unchecked Sendable {
    private let port: Int
    private let count: Int
    private let lock = NSLock()
    private var running = false
    private var thread: Thread?
    private var cutOffCount = 0
    private let done = DispatchSemaphore(value: 0)

    init(port: Int, count: Int) {
        self.port = port
        self.count = count
    }

    /// Connections the server closed.
    var cutOff: Int { lock.withLock { cutOffCount } }

    func start() {
        lock.withLock { running = true }
        let t = Thread { [self] in run(); done.signal() }
        thread = t
        t.start()
    }

    func stop() {
        let wasRunning = lock.withLock { () -> Bool in defer { running = false }; return running }
        if wasRunning { done.wait() }
    }

    private func run() {
        let frame = Array(MessageCodec.encode(Frame(requestID: 1, .get(key: "trickle"))).readableBytesView)
        var conns: [(RawConnection, Int)] = (0..<count).compactMap { _ in (try? RawConnection(host: "127.0.0.1", port: port)).map { ($0, 0) } }
        while lock.withLock({ running }) {
            for i in conns.indices {
                if conns[i].0.closedByPeer {
                    conns[i].0.close()
                    lock.withLock { cutOffCount += 1 }
                    if let fresh = try? RawConnection(host: "127.0.0.1", port: port) { conns[i] = (fresh, 0) }
                    continue
                }
                conns[i].0.write([frame[conns[i].1 % frame.count]])
                conns[i].1 += 1
            }
            usleep(1_000_000)
        }
        conns.forEach { $0.0.close() }
    }
}

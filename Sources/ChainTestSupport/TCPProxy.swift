import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP forwarder in front of ZooKeeper that a test can cut: the way to lose a connection (briefly,
/// or for longer than the session timeout so the server expires the session) without touching the server.
/// While cut, it accepts and drops new connections at once, as a partitioned network would look to the client.
public final class TCPProxy: @unchecked Sendable {
    public let port: Int
    private let targetHost: String
    private let targetPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var cut = false
    private var stopped = false
    private var open: Set<Int32> = []
    /// The server's side of every forwarded connection, and those whose answers are dropped.
    private var upstreams: Set<Int32> = []
    private var losing: Set<Int32> = []
    /// How long each read from the server waits before it is passed on (0: not at all).
    private var answerDelayMilliseconds = 0

    /// Forwards 127.0.0.1:`port` to the first server of `connectString`.
    public init(forwardingTo connectString: String) throws {
        let first = connectString.split(separator: ",")[0]
        let parts = first.split(separator: ":")
        guard parts.count == 2, let targetPort = Int(parts[1]) else {
            throw ProxyError(description: "cannot proxy \(connectString)")
        }
        self.targetHost = String(parts[0])
        self.targetPort = targetPort
        let (fd, port) = try Self.listen()
        self.listener = fd
        self.port = port
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    public var connectString: String { "127.0.0.1:\(port)" }

    /// Drops every forwarded connection and refuses new ones until `restore()`.
    public func cutConnections() {
        // shutdown, not close: it wakes the pump threads blocked in read(), which then close their sockets.
        // Under the lock, so no descriptor is closed (and its number reused) in between.
        lock.withLock {
            cut = true
            for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// From now on, what the server sends on every connection open now is read and dropped, while
    /// the client's requests still reach the server: requests applied whose answers are lost. The
    /// client notices only when its own receive timeout ends the connection (about two thirds of a
    /// ZooKeeper session timeout); connections made after this are forwarded whole.
    public func loseAnswers() {
        lock.withLock { losing.formUnion(upstreams) }
    }

    /// From now on, everything the server sends (answers, pings, watch events) reaches the client
    /// at least `milliseconds` late, on every connection: a slow link, which widens the time
    /// between a client's read and its next request as the server sees it. Each read from the
    /// server waits before it is passed on, so answers that arrive in separate reads queue behind
    /// each other (meant for a client with one request at a time). At most 1 s; 0 ends it.
    public func delayAnswers(milliseconds: Int) {
        precondition((0...1_000).contains(milliseconds), "a delay of 0-1000 ms")
        lock.withLock { answerDelayMilliseconds = milliseconds }
    }

    /// What becomes of a read from `source`: dropped (`loseAnswers`), or passed on after
    /// `delayMilliseconds` (`delayAnswers`; 0 at once, and always for the client's side).
    fileprivate func forwarding(from source: Int32) -> (drop: Bool, delayMilliseconds: Int) {
        lock.withLock { (losing.contains(source), upstreams.contains(source) ? answerDelayMilliseconds : 0) }
    }

    public func restore() {
        lock.withLock { cut = false }
    }

    public func stop() {
        lock.withLock { stopped = true }
        cutConnections()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if lock.withLock({ stopped }) { return }
                if errno == EINTR { continue }
                return
            }
            if lock.withLock({ cut || stopped }) {
                close(client)
                continue
            }
            guard let upstream = try? Self.connect(host: targetHost, port: targetPort) else {
                close(client)
                continue
            }
            lock.withLock {
                open.insert(client)
                open.insert(upstream)
                upstreams.insert(upstream)
            }
            let pair = Pair(a: client, b: upstream, proxy: self)
            Thread.detachNewThread { pair.pump(from: client, to: upstream) }
            Thread.detachNewThread { pair.pump(from: upstream, to: client) }
        }
    }

    fileprivate func closeAll(_ fds: [Int32]) {
        lock.withLock {
            for fd in fds {
                open.remove(fd)
                upstreams.remove(fd)
                losing.remove(fd)
                close(fd)
            }
        }
    }

    /// Two sockets forwarded both ways; the second pump to finish closes both.
    private final class Pair: @unchecked Sendable {
        let a: Int32
        let b: Int32
        let proxy: TCPProxy
        private let lock = NSLock()
        private var finished = 0

        init(a: Int32, b: Int32, proxy: TCPProxy) {
            self.a = a
            self.b = b
            self.proxy = proxy
        }

        func pump(from source: Int32, to destination: Int32) {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            loop: while true {
                let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                let forwarding = proxy.forwarding(from: source)
                if forwarding.drop { continue }
                if forwarding.delayMilliseconds > 0 { Thread.sleep(forTimeInterval: Double(forwarding.delayMilliseconds) / 1_000) }
                var sent = 0
                while sent < count {
                    let written = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                    if written <= 0 { break loop }
                    sent += written
                }
            }
            shutdown(a, Int32(SHUT_RDWR))
            shutdown(b, Int32(SHUT_RDWR))
            let last = lock.withLock { () -> Bool in
                finished += 1
                return finished == 2
            }
            if last { proxy.closeAll([a, b]) }
        }
    }

    private static func listen() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyError(description: "socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && Glibc.listen(fd, 16) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw ProxyError(description: "proxy cannot listen: errno \(errno)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    private static func connect(host: String, port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyError(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let ok = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                Glibc.connect(fd, raw, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard ok else {
            close(fd)
            throw ProxyError(description: "proxy cannot reach \(host):\(port)")
        }
        return fd
    }
}

public struct ProxyError: Error, CustomStringConvertible {
    public var description: String
}

@preconcurrency import CZooKeeper
import ChainCore
import Dispatch
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// A ZooKeeper session: the only code in chainkv that touches `zhandle_t`.
///
/// Every operation is an async call bridged from the C client's `zoo_a*` completions, so nothing blocks the
/// cooperative thread pool while a request travels. Watches use only the handle-level watcher: `watch: true`
/// arms it for that path, and the firing arrives in `events` with the path. (Per-path watcher contexts are
/// fragile: they also receive session events, and the ones still pending at `zookeeper_close` leak.)
///
/// `@unchecked Sendable`: the handle is only used under `handle`'s lock, and the `_mt` C API is thread-safe.
public final class ZooKeeperClient: @unchecked Sendable {
    /// Largest znode payload accepted. ZooKeeper's default jute.maxbuffer is 1 MiB for the whole request;
    /// a larger request makes the server drop the connection instead of answering with an error.
    public static let maxDataSize = 1_000_000
    /// Least time between the C client's routine re-resolutions of the connect string's hosts.
    /// By default it resolves every host each time its I/O thread checks the socket, and a
    /// getaddrinfo opens a netlink socket and dumps the machine's addresses. With a lease renewal
    /// every 75 ms, the C client's threads took 9.2 % of a loaded 3-server chain's CPU samples,
    /// and 4.0 % with this delay; idle servers used a third less CPU (issue 18, cut 34). The C
    /// client still resolves again when it loses its connection, so a moved ensemble is found on
    /// the next reconnection, and a DNS change without one within this window.
    public static let hostResolutionDelayMs: Int32 = 10_000

    /// Session events and watch firings, in the order the C client reported them. One consumer only.
    public let events: AsyncStream<ZooKeeperEvent>
    /// The session timeout asked for (the server may negotiate it within its min/max).
    public let sessionTimeout: Duration
    public let connectString: String
    /// With digest credentials: new znodes below the top level are protected (see `create`).
    public let protectsZnodes: Bool

    private let sink: EventSink
    private let sinkContext: Unmanaged<EventSink>
    private let logger: Logger
    /// nil once `close()` started. Operations run their `zoo_a*` call under this lock, so `zookeeper_close`
    /// (called after taking the handle out) never races with a call still using the handle.
    private let handle: Locked<OpaquePointer?>

    /// Identity of a session, to take it over from another handle (`resuming:`).
    public struct SessionCredentials: Sendable, Hashable {
        public var id: Int64
        public var password: [UInt8]

        public init(id: Int64, password: [UInt8]) {
            self.id = id
            self.password = password
        }
    }

    /// Starts connecting to `connectString` ("host:port,host:port,..."). Returns at once; use
    /// `waitConnected(timeout:)` or watch `events` for `.connected`.
    /// - Parameter resuming: join an existing session instead of creating one (its owner should be gone).
    /// - Parameter digest: credentials added to the session (`zoo_add_auth`, scheme "digest"; the C
    ///   client sends them again after every reconnection), and the identity new znodes below the
    ///   top level are protected for.
    public init(
        connectString: String,
        sessionTimeout: Duration = .seconds(10),
        resuming credentials: SessionCredentials? = nil,
        digest: ZooKeeperDigest? = nil,
        logger: Logger = Logger(label: "chainkv.zookeeper")
    ) throws {
        zoo_set_debug_level(ZOO_LOG_LEVEL_WARN)
        let (stream, continuation) = AsyncStream.makeStream(of: ZooKeeperEvent.self, bufferingPolicy: .unbounded)
        let sink = EventSink(continuation: continuation, logger: logger)
        let context = Unmanaged.passRetained(sink)
        let timeoutMs = Int32(clamping: sessionTimeout.wholeMilliseconds)

        var clientID = clientid_t()
        if let credentials {
            clientID.client_id = credentials.id
            withUnsafeMutableBytes(of: &clientID.passwd) { buffer in
                for (index, byte) in credentials.password.prefix(buffer.count).enumerated() {
                    buffer[index] = byte
                }
            }
        }
        let zh: OpaquePointer? = withUnsafePointer(to: &clientID) { clientIDPointer in
            zookeeper_init2(
                connectString, sessionWatcher, timeoutMs, credentials == nil ? nil : clientIDPointer,
                context.toOpaque(), Int32(ZOO_NO_LOG_CLIENTENV), cClientLog)
        }
        guard let zh else {
            // zookeeper_init fails synchronously only for arguments it cannot parse or resolve.
            let code = errno
            context.release()
            continuation.finish()
            logger.error("cannot open ZooKeeper handle", metadata: [
                "connect": "\(connectString)", "errno": "\(code)",
            ])
            throw ZooKeeperError.badArguments
        }
        let delayRC = zoo_set_servers_resolution_delay(zh, Self.hostResolutionDelayMs)
        if delayRC != ZOK.rawValue { logger.warning("zoo_set_servers_resolution_delay failed", metadata: ["rc": "\(delayRC)"]) }
        self.events = stream
        self.sessionTimeout = sessionTimeout
        self.connectString = connectString
        self.sink = sink
        self.sinkContext = context
        self.logger = logger
        self.handle = Locked(zh)
        self.protectsZnodes = digest != nil
        if let digest {
            let auth = Array(digest.credentials.utf8)
            let rc = auth.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { zoo_add_auth(zh, "digest", $0.baseAddress, Int32($0.count), nil, nil) }
            }
            if rc != ZOK.rawValue { logger.error("zoo_add_auth failed", metadata: ["rc": "\(rc)"]) }
        }
        logger.debug("ZooKeeper handle opened", metadata: ["connect": "\(connectString)", "digestUser": "\(digest?.user ?? "-")"])
    }

    deinit {
        // Normally `close()` ran already. If not, close here; this blocks for a few ms (or up to ~4 s against an
        // unresponsive server), but leaving the C threads running with a dangling context would be worse.
        if let zh = handle.withLock({ h -> OpaquePointer? in defer { h = nil }; return h }) {
            logger.warning("ZooKeeperClient released without close(); closing the session now")
            zookeeper_close(zh)
            sink.finish()
            sinkContext.release()
        }
    }

    /// True while the session is connected to a server (thread-safe, no I/O).
    public var isConnected: Bool { sink.state == .connected }

    /// The session id (as in the server logs and `ephemeralOwner`), or 0 before the first connection.
    public var sessionID: Int64 {
        handle.withLock { h in
            guard let zh = h, let id = zoo_client_id(zh) else { return 0 }
            return id.pointee.client_id
        }
    }

    /// The session timeout the server granted (it clamps the requested one to 2-20 ticks), or nil before the
    /// first connection. A server that may only act while its session lives (a head serving reads) must stop
    /// well within this time after losing the connection.
    public var negotiatedSessionTimeout: Duration? {
        handle.withLock { h in
            // Until the first connection the handle holds the requested value; the session id tells them apart.
            guard let zh = h, let id = zoo_client_id(zh), id.pointee.client_id != 0 else { return nil }
            let ms = zoo_recv_timeout(zh)
            return ms > 0 ? .milliseconds(ms) : nil
        }
    }

    /// The session's id and password, for `init(connectString:sessionTimeout:resuming:logger:)`.
    public var sessionCredentials: SessionCredentials? {
        handle.withLock { h in
            guard let zh = h, let id = zoo_client_id(zh), id.pointee.client_id != 0 else { return nil }
            let password = withUnsafeBytes(of: id.pointee.passwd) { Array($0) }
            return SessionCredentials(id: id.pointee.client_id, password: password)
        }
    }

    /// Waits until the session is connected. Throws `timedOut`, `sessionExpired`, `authFailed` or `closed`.
    public func waitConnected(timeout: Duration) async throws {
        try await sink.waitConnected(timeout: timeout)
    }

    // MARK: - Operations

    /// Creates a znode and returns its path (with the sequence suffix for sequential modes).
    ///
    /// With digest credentials, a znode below the top level (e.g. `/chainkv/<cluster>/...`) gets
    /// the ACL "all for our digest identity, read for anyone"; a top-level znode (`/chainkv`) stays
    /// open, since clusters with other credentials share it (it holds no data).
    @discardableResult
    public func create(_ path: String, data: [UInt8] = [], mode: CreateMode = .persistent) async throws -> String {
        try checkSize(data)
        let protected = protects(path)
        return try await submit { zh, box in
            data.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    if protected {
                        czk_acreate_protected(zh, path, chars.baseAddress, Int32(chars.count),
                                              mode.flags, createCompletion, box)
                    } else {
                        zoo_acreate(zh, path, chars.baseAddress, Int32(chars.count), czk_open_acl_unsafe(),
                                    mode.flags, createCompletion, box)
                    }
                }
            }
        }
    }

    /// Creates `path` and any missing parents as empty persistent znodes (mkdir -p).
    public func ensurePath(_ path: String) async throws {
        if try await exists(path, watch: false) != nil { return }
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            do {
                try await create(prefix, mode: .persistent)
            } catch ZooKeeperError.nodeExists {
                // Someone else (or an earlier attempt) made it: exactly what we wanted.
            }
        }
    }

    public func getData(_ path: String, watch: Bool = false) async throws -> (data: [UInt8], version: Int32) {
        let result = try await getDataAndStat(path, watch: watch)
        return (result.data, result.stat.version)
    }

    /// Like `getData`, with all the znode's metadata.
    public func getDataAndStat(_ path: String, watch: Bool = false) async throws -> (data: [UInt8], stat: ZnodeStat) {
        let result: ZnodeData = try await submit { zh, box in
            zoo_aget(zh, path, watch ? 1 : 0, getCompletion, box)
        }
        return (result.data, result.stat)
    }

    /// Replaces the data if the znode's version is `version` (-1: any) and returns the new version.
    @discardableResult
    public func setData(_ path: String, data: [UInt8], version: Int32 = -1) async throws -> Int32 {
        try checkSize(data)
        let stat: ZnodeStat = try await submit { zh, box in
            data.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    zoo_aset(zh, path, chars.baseAddress, Int32(chars.count), version, setCompletion, box)
                }
            }
        }
        return stat.version
    }

    /// The names (not paths) of the children, in no particular order.
    public func children(_ path: String, watch: Bool = false) async throws -> [String] {
        try await childrenAndStat(path, watch: watch).names
    }

    /// Like `children`, with the parent's metadata (its `childrenVersion` orders successive listings).
    public func childrenAndStat(_ path: String, watch: Bool = false) async throws -> (names: [String], stat: ZnodeStat) {
        let (names, stat): ([String], ZnodeStat) = try await submit { zh, box in
            zoo_aget_children2(zh, path, watch ? 1 : 0, childrenCompletion, box)
        }
        return (names, stat)
    }

    /// The znode's version, or nil if it does not exist. With `watch`, the watch fires on creation too.
    public func exists(_ path: String, watch: Bool = false) async throws -> Int32? {
        try await stat(path, watch: watch)?.version
    }

    /// The znode's metadata, or nil if it does not exist.
    public func stat(_ path: String, watch: Bool = false) async throws -> ZnodeStat? {
        try await submit { zh, box in
            zoo_aexists(zh, path, watch ? 1 : 0, existsCompletion, box)
        }
    }

    /// Waits until the server this session talks to has applied every change committed before
    /// the sync reached the ensemble's leader. ZooKeeper reads are served by the session's own
    /// server, which may lag; a read sent after `sync` on the same session (requests of a session
    /// are answered in order) sees at least what was committed before the sync.
    public func sync(_ path: String) async throws {
        let _: Void = try await submit { zh, box in
            zoo_async(zh, path, syncCompletion, box)
        }
    }

    /// Deletes the znode if its version is `version` (-1: any).
    public func delete(_ path: String, version: Int32 = -1) async throws {
        let _: Void = try await submit { zh, box in
            zoo_adelete(zh, path, version, voidCompletion, box)
        }
    }

    /// Ends the session: the server removes its ephemeral znodes at once. Pending operations fail with `closed`,
    /// `events` finishes, and no callback runs after this returns. Idempotent; a second call returns at once.
    public func close() async {
        guard let zh = handle.withLock({ h -> OpaquePointer? in defer { h = nil }; return h }) else { return }
        let sessionID = zoo_client_id(zh)?.pointee.client_id ?? 0
        // zookeeper_close blocks (it flushes the close request and joins the C threads): run it on a
        // Dispatch thread, not on the cooperative pool.
        let closing = UnsafeHandle(zh: zh)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                zookeeper_close(closing.zh)
                done.resume()
            }
        }
        sink.finish()
        sinkContext.release()
        logger.debug("ZooKeeper session closed", metadata: ["session": "\(String(sessionID, radix: 16))"])
    }

    // MARK: - Plumbing

    /// A handle being closed, handed to the closing thread.
    private struct UnsafeHandle: @unchecked Sendable {
        let zh: OpaquePointer
    }

    /// Whether a znode created at `path` gets the protected ACL: with digest credentials, every
    /// znode below the top level (`create`, `multi`).
    func protects(_ path: String) -> Bool {
        protectsZnodes && path.split(separator: "/").count > 1
    }

    func checkSize(_ data: [UInt8]) throws {
        try checkSize(byteCount: data.count)
    }

    func checkSize(byteCount: Int) throws {
        guard byteCount <= Self.maxDataSize else {
            throw ZooKeeperError.dataTooLarge(size: byteCount)
        }
    }

    /// Starts one `zoo_a*` call with a retained `CompletionBox` as its data and waits for the completion.
    /// If the call is refused synchronously (rc != ZOK), the completion never runs: release the box here.
    func submit<Value: Sendable>(
        _ start: (OpaquePointer, UnsafeRawPointer) -> Int32
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            let box = Unmanaged.passRetained(CompletionBox(continuation))
            let rc: Int32 = handle.withLock { h in
                guard let zh = h else { return ZCLOSING.rawValue }
                return start(zh, UnsafeRawPointer(box.toOpaque()))
            }
            guard rc == ZOK.rawValue else {
                box.release()
                continuation.resume(throwing: error(forSynchronous: rc))
                return
            }
        }
    }

    /// A synchronous refusal with ZINVALIDSTATE means the handle is dead: say why.
    private func error(forSynchronous rc: Int32) -> ZooKeeperError {
        guard rc == ZINVALIDSTATE.rawValue else { return ZooKeeperError(code: rc) }
        switch sink.state {
        case .expired: return .sessionExpired
        case .authFailed: return .authFailed
        case .closed: return .closed
        case .connecting, .connected: return .other(code: rc)
        }
    }
}

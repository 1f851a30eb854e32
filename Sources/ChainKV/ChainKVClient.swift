internal import ChainCore
public import ChainTransport
public import ChainWire
internal import NIOConcurrencyHelpers
package import NIOCore
internal import NIOPosix

/// The async Swift client of a chainkv cluster.
///
/// It learns the slot map and every chain's head from any server it was given (`getSlots`),
/// keeps one connection per server with many requests in flight, sends each key to the head of
/// the chain that owns its slot, and asks again when a chain changes or a server answers that
/// the key moved. (A cluster of one chain is a map whose one chain owns every slot.) Every request is
/// retried until `retryBudget` runs out: reads freely, writes under the same request id, which the
/// head recognizes, so a retried write is never applied twice. A write that may have been applied
/// when the budget ran out fails with `.chainFailure` (the paper's -2).
///
/// Call `await shutdown()` when done with it: it closes the connections and returns once they
/// are closed.
public final class ChainKVClient: Sendable {
    public struct Options: Sendable {
        /// How long one attempt of a request waits for its reply before it is retried (a write
        /// under the same request id). Short, so that a head that stopped answering without
        /// closing its connections (paused, cut off) costs one attempt, not the whole budget.
        public var requestTimeout: Duration = .seconds(1)
        public var connectTimeout: Duration = .seconds(2)
        /// How long a server asked where the head is may take to answer. Every known server is
        /// asked at once; one that does not answer within this is left out of that round.
        public var probeTimeout: Duration = .milliseconds(500)
        /// How long a request keeps retrying while the chain has no reachable head.
        public var retryBudget: Duration = .seconds(10)
        /// A request gives up early when every server refused the connection (nothing listens:
        /// no server is running) for this long, instead of retrying for the whole budget.
        public var refusedGiveUp: Duration = .milliseconds(500)
        /// When the head of a key's chain does not answer this client (a request timed out or its
        /// connection broke) while other servers do, send that chain's requests through one of
        /// them (`relay`), which passes each to the head, until the head answers a check again
        /// (ChainKVClient+Relay). For a link cut between client and head: the head keeps its role
        /// while its peers and ZooKeeper reach it, so nothing else would end the outage.
        public var relayWhenHeadUnreachable = true
        /// Shared secret and TLS, as the servers are configured (`ConnectionSecurity.fromEnvironment()`
        /// reads them from CHAINKV_SECRET_FILE and CHAINKV_TLS_CA_FILE).
        public var security: ConnectionSecurity = .none
        public init() {}
    }

    let seeds: [(host: String, port: Int)]
    /// One event loop for all of this client's connections, so that a task that prefers
    /// `taskExecutor` runs every request without changing threads.
    let loop: EventLoop
    let executor: EventLoopExecutor
    let options: Options
    let state = NIOLockedValueBox(State())
    /// Random per client: with the counter below it names each write across retries.
    private let clientID = UInt64.random(in: 1...UInt64.max)
    private let nextRequest = NIOLockedValueBox<UInt64>(0)

    struct State {
        /// The slot map and heads from the last discovery; nil: ask again.
        var routes: Routes?
        /// One connection per server.
        var connections: [ServerKey: Connection] = [:]
        /// Servers the last discovery learned of, tried before the seeds.
        var known: [(host: String, port: Int)] = []
        /// The discovery in progress: concurrent requests share it instead of each dialing the
        /// cluster and replacing each other's connections.
        var discovery: Task<Routes, Error>?
        var closed = false
        /// Every connection this client opened that has not closed yet (those in `connections`,
        /// those retired but still receiving replies, and probes'), by identity: `shutdown()`
        /// closes them all and waits for each.
        var open: [ObjectIdentifier: Connection] = [:]
        /// Connection attempts under way, and the shutdowns waiting for them to end.
        var dialing = 0
        var dialsEnded: [CheckedContinuation<Void, Never>] = []
        /// Servers that did not answer this client and have not answered a check since
        /// (ChainKVClient+Relay): a chain whose head is one of them is reached through another server.
        var unreachable: Set<ServerKey> = []
    }

    /// - Parameters:
    ///   - servers: "host" or "host:port" strings; `port` is used where none is given.
    public convenience init(servers: [String], port: Int = 7001, options: Options = Options()) throws {
        try self.init(servers: servers, port: port, options: options, group: MultiThreadedEventLoopGroup.singleton)
    }

    /// As the public initializer, on an event loop of `group` (the package's tests and tools).
    package init(servers: [String], port: Int = 7001, options: Options = Options(), group: EventLoopGroup) throws {
        var seeds: [(String, Int)] = []
        for s in servers {
            guard let parsed = Self.parse(s, defaultPort: port) else { throw ChainKVError.invalidArgument("bad server address \"\(s)\"") }
            seeds.append(parsed)
        }
        guard !seeds.isEmpty else { throw ChainKVError.invalidArgument("no servers given") }
        self.seeds = seeds
        self.loop = group.next()
        self.executor = EventLoopExecutor(loop)
        self.options = options
    }

    static func parse(_ s: String, defaultPort: Int) -> (String, Int)? {
        NodeAddress(id: s, parsing: s, defaultPort: defaultPort).map { ($0.host, $0.port) }
    }

    // MARK: API

    /// The value of `key`, or nil when it does not exist.
    public func get(_ key: String) async throws -> [UInt8]? {
        try check(key)
        switch try await execute(.get(key: key), key: key, idempotent: true) {
        case .value(let v): return v
        case let other: throw unexpected(other)
        }
    }

    /// Sets `key` and returns the value it had just before (nil: it is a new key).
    @discardableResult
    public func put(_ key: String, _ value: [UInt8]) async throws -> [UInt8]? {
        try check(key)
        if let e = KeyValidation.check(value: value) { throw ChainKVError.invalidArgument(e.description) }
        switch try await execute(.put(key: key, value: value, request: newRequestID()), key: key, idempotent: false) {
        case .putResult(let old): return old
        case let other: throw unexpected(other)
        }
    }

    /// Deletes `key`; true if it existed.
    @discardableResult
    public func delete(_ key: String) async throws -> Bool {
        try check(key)
        switch try await execute(.delete(key: key, request: newRequestID()), key: key, idempotent: false) {
        case .deleteResult(let existed): return existed
        case let other: throw unexpected(other)
        }
    }

    /// The chain (the first by id when keys are sharded over several), as the servers report it.
    public func chain() async throws -> ChainInfo {
        let shards = try await shards()
        guard let first = shards.chains.first else { throw ChainKVError.network("no chain yet") }
        return first.chain
    }

    /// The slot map and every chain's members, head first, asked of the servers now.
    public func shards() async throws -> ShardMap {
        let routes: Routes
        do {
            routes = try await findRoutes()
        } catch let notFound as HeadNotFound {
            throw notFound.error
        }
        return ShardMap(routes.map) { routes.chains[$0] }
    }

    /// Asks one server to exit: clean leaves through the leader first, unclean exits at once.
    public func die(server: String, clean: Bool) async throws {
        guard let (host, port) = Self.parse(server, defaultPort: seeds[0].port) else {
            throw ChainKVError.invalidArgument("bad server address \"\(server)\"")
        }
        let connection = try await connect(host: host, port: port)
        defer { connection.close() }
        switch try await connection.request(.die(clean: clean), timeout: options.requestTimeout) {
        case .dieAck: return
        case let other: throw unexpected(other)
        }
    }

    /// Closes every connection of the client and returns once they are closed (a connection
    /// attempt under way is waited for, at most `connectTimeout`, and closed too). Requests in
    /// flight fail; later calls fail with `ChainKVError.network("client is shut down")`. Calling
    /// it again is harmless.
    public func shutdown() async {
        let dialing = state.withLockedValue { s -> Bool in
            s.closed = true
            s.connections = [:]
            s.routes = nil
            return s.dialing > 0
        }
        if dialing {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let now = state.withLockedValue { s -> Bool in
                    if s.dialing == 0 { return true }
                    s.dialsEnded.append(done)
                    return false
                }
                if now { done.resume() }
            }
        }
        let open = state.withLockedValue { Array($0.open.values) }
        for c in open { c.close() }
        for c in open { await c.waitUntilClosed() }
    }

    /// Connections this client opened that are not closed yet (for the package's tests).
    package var openConnections: Int {
        state.withLockedValue { $0.open.count }
    }

    /// Starts closing every connection and returns at once, for code that cannot wait
    /// (`defer`, synchronous callers such as `PaperClient`). The client must not be used afterwards.
    public func beginShutdown() {
        let open = state.withLockedValue { s -> [Connection] in
            s.closed = true
            s.connections = [:]
            s.routes = nil
            return Array(s.open.values)
        }
        for c in open { c.close() }
    }

    // MARK: Internals

    func check(_ key: String) throws {
        if let e = KeyValidation.check(key) { throw ChainKVError.invalidArgument(e.description) }
    }

    func unexpected(_ message: Message) -> ChainKVError {
        if case .error(let code, let text) = message { return .server(code, text) }
        return .network("unexpected reply \(message.kind)")
    }

    func newRequestID() -> RequestID {
        RequestID(client: clientID, seq: nextRequest.withLockedValue { $0 += 1; return $0 })
    }
}

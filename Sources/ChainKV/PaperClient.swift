public import ChainTransport
internal import ChainWire
internal import Foundation
internal import NIOConcurrencyHelpers

/// The design paper's five calls with its status codes, as blocking calls. This is what the C
/// ABI (include/chainkv.h) exports; Swift code may use it directly or the async `ChainKVClient`.
///
/// Status codes: 0 success with a value (found / key existed), 1 success without (missing / new
/// key), -1 network error, -2 replication failed (a write may or may not have applied: retry),
/// -3 bad argument (nothing was sent).
public final class PaperClient: @unchecked Sendable {
    public static let ok: Int32 = 0
    public static let absent: Int32 = 1
    public static let networkError: Int32 = -1
    public static let chainFailure: Int32 = -2
    public static let badArgument: Int32 = -3

    private let lock = NSLock()
    private var client: ChainKVClient?
    /// Shared secret and TLS for the connections of the next `init` (and of `die`).
    private let security: NIOLockedValueBox<ConnectionSecurity>

    public init(security: ConnectionSecurity = .none) {
        self.security = NIOLockedValueBox(security)
    }

    /// Connects through any of `servers` ("host" or "host:port"; `port` where none is given) and
    /// finds the head. 0: the head is known; -1: no head reachable now (or a server refused our
    /// secret): the servers are kept and later calls keep looking; -3: bad address.
    public func `init`(servers: [String], port: Int) -> Int32 {
        self.`init`(servers: servers, port: port, security: security.withLockedValue { $0 })
    }

    /// Sets the shared secret and TLS for later calls (`die` without `init`, the next `init`).
    public func use(_ security: ConnectionSecurity) {
        self.security.withLockedValue { $0 = security }
    }

    /// As `init(servers:port:)`, with this shared secret and TLS from now on.
    public func `init`(servers: [String], port: Int, security: ConnectionSecurity) -> Int32 {
        self.security.withLockedValue { $0 = security }
        var options = ChainKVClient.Options()
        options.security = security
        let c: ChainKVClient
        do {
            c = try ChainKVClient(servers: servers, port: port, options: options)
        } catch {
            return Self.badArgument
        }
        // The client is kept even when no head answers now (the paper's -1): every later call
        // looks for the head again, so a process that initialised during an outage works as
        // soon as the cluster does, without calling init again.
        lock.withLock {
            client?.beginShutdown()
            client = c
        }
        return (try? blocking { try await c.chain() }) != nil ? Self.ok : Self.networkError
    }

    /// 0 and the value; 1 when the key does not exist; -1 network error; -3 bad argument.
    public func get(_ key: String) -> (status: Int32, value: [UInt8]?) {
        guard let c = current() else { return (Self.networkError, nil) }
        do {
            let v = try blocking(on: c.taskExecutor) { try await c.get(key) }
            return v.map { (Self.ok, $0) } ?? (Self.absent, nil)
        } catch let e as ChainKVError {
            return (Self.readStatus(e), nil)
        } catch {
            return (Self.networkError, nil)
        }
    }

    /// 0 and the old value when the key existed; 1 when it is new; -2 replication failed (retry);
    /// -1 network error (nothing applied); -3 bad argument.
    public func put(_ key: String, _ value: [UInt8]) -> (status: Int32, old: [UInt8]?) {
        guard let c = current() else { return (Self.networkError, nil) }
        do {
            let old = try blocking(on: c.taskExecutor) { try await c.put(key, value) }
            return old.map { (Self.ok, $0) } ?? (Self.absent, nil)
        } catch let e as ChainKVError {
            return (Self.writeStatus(e), nil)
        } catch {
            return (Self.chainFailure, nil)
        }
    }

    /// 0 deleted; 1 no such key; -1, -2, -3 as for put.
    public func delete(_ key: String) -> Int32 {
        guard let c = current() else { return Self.networkError }
        do {
            return try blocking(on: c.taskExecutor) { try await c.delete(key) } ? Self.ok : Self.absent
        } catch let e as ChainKVError {
            return Self.writeStatus(e)
        } catch {
            return Self.chainFailure
        }
    }

    /// Closes the connections and returns once they are closed; `init` may be called again.
    /// Always 0. A blocking call like the others: not from inside Swift concurrency.
    public func shutdown() -> Int32 {
        let closing = lock.withLock {
            defer { client = nil }
            return client
        }
        if let closing { try? blocking { await closing.shutdown() } }
        return Self.ok
    }

    /// Asks `server` ("host:port") to exit: clean leaves through the leader, unclean exits at once.
    /// 0: the server acknowledged; -1: unreachable; -3: bad address.
    public func die(server: String, clean: Bool) -> Int32 {
        let c: ChainKVClient
        if let current = current() {
            c = current
        } else {
            var options = ChainKVClient.Options()
            options.security = security.withLockedValue { $0 }
            guard let fresh = try? ChainKVClient(servers: [server], options: options) else { return Self.badArgument }
            c = fresh
        }
        do {
            try blocking { try await c.die(server: server, clean: clean) }
            return Self.ok
        } catch ChainKVError.invalidArgument {
            return Self.badArgument
        } catch {
            return Self.networkError
        }
    }

    func current() -> ChainKVClient? { lock.withLock { client } }

    static func readStatus(_ e: ChainKVError) -> Int32 {
        switch e {
        case .invalidArgument: return badArgument
        case .server(let code, _) where code.isRequestFault: return badArgument
        default: return networkError
        }
    }

    static func writeStatus(_ e: ChainKVError) -> Int32 {
        switch e {
        case .invalidArgument: return badArgument
        case .server(let code, _) where code.isRequestFault: return badArgument
        case .network: return networkError
        default: return chainFailure
        }
    }
}

/// Runs an async operation to completion from a plain (non-async) thread: the C ABI and the
/// paper API are blocking calls. Never call this from inside Swift concurrency.
///
/// `executor`: where the operation runs. The calls of one key give the client's event loop
/// (`ChainKVClient.taskExecutor`): the operation then wakes one thread (the loop's) instead of a
/// thread of the cooperative pool that then hands the request to the loop and gets the reply back.
func blocking<T: Sendable>(on executor: (any TaskExecutor)? = nil, _ body: @escaping @Sendable () async throws -> T) throws -> T {
    if let loop = (executor as? EventLoopExecutor)?.loop {
        // The operation would be queued on the very thread this call blocks: it could never run.
        precondition(!loop.inEventLoop, "a blocking chainkv call was made on its client's event loop thread")
    }
    let semaphore = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    Task.detached(executorPreference: executor) {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        semaphore.signal()
    }
    semaphore.wait()
    return try box.result!.get()
}

/// Written by the task before it signals, read by the waiter after: the semaphore orders the two.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

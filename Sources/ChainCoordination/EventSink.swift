@preconcurrency import CZooKeeper
import Logging

/// The context of the handle-level watcher. The C client calls `sessionWatcher` on its completion thread,
/// which turns each call into a `ZooKeeperEvent` and yields it here. Yielding into an `AsyncStream`
/// continuation keeps the order of the calls; spawning a `Task` per event would not.
///
/// The sink also tracks the connection state for `isConnected` and `waitConnected`, independently of whoever
/// consumes the stream: a consumer that is busy (for example retrying after a connection loss) must still be
/// able to learn that the connection is back.
final class EventSink: Sendable {
    enum State: Sendable { case connecting, connected, expired, authFailed, closed }

    private struct Waiter {
        let continuation: CheckedContinuation<Void, any Error>
        var timer: Task<Void, Never>?
    }

    private struct Guarded {
        var state: State = .connecting
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiterID: UInt64 = 0
    }

    private let continuation: AsyncStream<ZooKeeperEvent>.Continuation
    private let logger: Logger
    private let guarded = Locked(Guarded())

    init(continuation: AsyncStream<ZooKeeperEvent>.Continuation, logger: Logger) {
        self.continuation = continuation
        self.logger = logger
    }

    var state: State { guarded.withLock { $0.state } }

    /// Called on the C client's completion thread for every session event and watch firing.
    func deliver(type: Int32, state: Int32, path: String?) {
        if type == ZOO_SESSION_EVENT {
            deliverSession(state: state)
            return
        }
        guard let path, !path.isEmpty else {
            logger.debug("watch event without a path", metadata: ["type": "\(type)"])
            return
        }
        let event: ZooKeeperEvent
        switch type {
        case ZOO_CREATED_EVENT: event = .created(path: path)
        case ZOO_DELETED_EVENT: event = .deleted(path: path)
        case ZOO_CHANGED_EVENT: event = .changed(path: path)
        case ZOO_CHILD_EVENT: event = .childrenChanged(path: path)
        default:
            // ZOO_NOTWATCHING_EVENT (a watch removed by the server) and anything newer: nothing to act on.
            logger.debug("ignoring watch event", metadata: ["type": "\(type)", "path": "\(path)"])
            return
        }
        guarded.withLock { g in
            guard g.state != .closed else { return }
            continuation.yield(event)
        }
    }

    private func deliverSession(state rawState: Int32) {
        let newState: State
        let event: ZooKeeperEvent
        switch rawState {
        case ZOO_CONNECTED_STATE: (newState, event) = (.connected, .connected)
        case ZOO_EXPIRED_SESSION_STATE: (newState, event) = (.expired, .expired)
        case ZOO_AUTH_FAILED_STATE: (newState, event) = (.authFailed, .authFailed)
        case ZOO_CONNECTING_STATE, ZOO_ASSOCIATING_STATE, ZOO_NOTCONNECTED_STATE:
            (newState, event) = (.connecting, .connecting)
        default:
            // ZOO_READONLY_STATE cannot happen: the handle is not opened with ZOO_READONLY.
            logger.debug("ignoring session state", metadata: ["state": "\(rawState)"])
            return
        }
        let released: [Waiter] = guarded.withLock { g in
            // expired and authFailed are final; closed is ours. The C client also repeats CONNECTING on each
            // failed reconnect attempt: only changes are worth reporting.
            guard g.state != .closed, g.state != .expired, g.state != .authFailed, g.state != newState else {
                return []
            }
            g.state = newState
            continuation.yield(event)
            guard newState != .connecting else { return [] }
            defer { g.waiters.removeAll() }
            return Array(g.waiters.values)
        }
        let result: Result<Void, any Error>
        switch newState {
        case .connected: result = .success(())
        case .expired: result = .failure(ZooKeeperError.sessionExpired)
        default: result = .failure(ZooKeeperError.authFailed)
        }
        for waiter in released {
            waiter.timer?.cancel()
            waiter.continuation.resume(with: result)
        }
        switch newState {
        case .connected: logger.debug("ZooKeeper session connected")
        case .connecting: logger.info("ZooKeeper connection lost; reconnecting")
        case .expired: logger.warning("ZooKeeper session expired")
        case .authFailed: logger.error("ZooKeeper authentication failed")
        case .closed: break
        }
    }

    /// Waits until the state is `connected`. Fails at once on an expired, failed or closed session.
    func waitConnected(timeout: Duration) async throws {
        let id = guarded.withLock { g -> UInt64 in
            g.nextWaiterID &+= 1
            return g.nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate: Result<Void, any Error>? = guarded.withLock { g in
                    switch g.state {
                    case .connected: return .success(())
                    case .expired: return .failure(ZooKeeperError.sessionExpired)
                    case .authFailed: return .failure(ZooKeeperError.authFailed)
                    case .closed: return .failure(ZooKeeperError.closed)
                    case .connecting:
                        if Task.isCancelled { return .failure(CancellationError()) }
                        g.waiters[id] = Waiter(continuation: continuation, timer: nil)
                        return nil
                    }
                }
                if let immediate {
                    continuation.resume(with: immediate)
                    return
                }
                let timer = Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    self?.finishWaiter(id, with: .failure(ZooKeeperError.timedOut))
                }
                let stillWaiting = guarded.withLock { g -> Bool in
                    guard g.waiters[id] != nil else { return false }
                    g.waiters[id]?.timer = timer
                    return true
                }
                if !stillWaiting { timer.cancel() }
            }
        } onCancel: {
            finishWaiter(id, with: .failure(CancellationError()))
        }
    }

    private func finishWaiter(_ id: UInt64, with result: Result<Void, any Error>) {
        let waiter = guarded.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.timer?.cancel()
        waiter?.continuation.resume(with: result)
    }

    /// Called by `close()` after `zookeeper_close` returned, when no more callbacks can arrive.
    func finish() {
        let released: [Waiter] = guarded.withLock { g in
            g.state = .closed
            defer { g.waiters.removeAll() }
            return Array(g.waiters.values)
        }
        continuation.finish()
        for waiter in released {
            waiter.timer?.cancel()
            waiter.continuation.resume(throwing: ZooKeeperError.closed)
        }
    }
}

/// The handle-level watcher. A global constant, not a closure in some isolated context: a `@convention(c)`
/// literal written in `@MainActor` code inherits that isolation and crashes (SIGILL,
/// `_dispatch_assert_queue_fail`) when the C thread calls it. Its context is an `EventSink` retained by the client until after `zookeeper_close`.
let sessionWatcher: watcher_fn = { _, type, state, path, context in
    guard let context else { return }
    let sink = Unmanaged<EventSink>.fromOpaque(context).takeUnretainedValue()
    sink.deliver(type: type, state: state, path: path.map { String(cString: $0) })
}

internal import Foundation

/// A watch as blocking calls, for the C ABI (`chainkv_watch_open`, `_next`, `_close`): a task
/// reads the watch's stream into a queue that `next` takes from, waiting up to a timeout.
///
/// The queue is bounded (`queuedMax`): when the caller does not take changes as fast as they
/// come, the watch stops with an error rather than holding an unbounded backlog in memory.
public final class PaperWatch: @unchecked Sendable {
    /// Changes held for the caller before the watch gives up on it.
    public static let queuedMax = 100_000

    public enum Next {
        case change(WatchEvent)
        /// Nothing within the timeout.
        case none
        /// The history no longer holds the cursor: `oldest` is the oldest version kept.
        case compacted(oldest: UInt64)
        /// The watch ended with an error (network, refused, or the caller fell too far behind).
        case failed(String)
    }

    private let condition = NSCondition()
    private var queue: [WatchEvent] = []
    private var head = 0
    private var end: Next?
    private var task: Task<Void, Never>?

    init(_ stream: WatchStream) {
        task = Task { [weak self] in
            do {
                for try await event in stream {
                    guard let self, self.push(event) else { return }
                }
                self?.finish(.failed("the watch ended"))
            } catch let compacted as WatchCompacted {
                self?.finish(.compacted(oldest: compacted.oldest))
            } catch {
                self?.finish(.failed("\(error)"))
            }
        }
    }

    deinit { task?.cancel() }

    /// The next change, waiting up to `timeoutMs` for one.
    public func next(timeoutMs: Int) -> Next {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(Double(max(timeoutMs, 0)) / 1000)
        while head == queue.count && end == nil {
            if !condition.wait(until: deadline) { break }
        }
        if head < queue.count {
            let event = queue[head]
            head += 1
            if head == queue.count { queue.removeAll(keepingCapacity: true); head = 0 }
            return .change(event)
        }
        return end ?? .none
    }

    /// Stops the watch; `next` then reports it ended.
    public func close() {
        task?.cancel()
        finish(.failed("the watch was closed"))
    }

    private func push(_ event: WatchEvent) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard end == nil else { return false }
        guard queue.count - head < Self.queuedMax else {
            end = .failed("more than \(Self.queuedMax) changes were not taken: the watch stopped")
            condition.broadcast()
            return false
        }
        queue.append(event)
        condition.signal()
        return true
    }

    private func finish(_ reason: Next) {
        condition.lock()
        if end == nil { end = reason }
        condition.broadcast()
        condition.unlock()
    }
}

extension PaperClient {
    /// A watch of `key`, or of `prefix` (exactly one), from now or just after `after` (a
    /// `WatchCursor`'s text); nil with a status (-1 not initialised or no chain's head answered,
    /// -3 bad argument).
    public func watch(key: String?, prefix: String?, after: String?) -> (status: Int32, watch: PaperWatch?) {
        guard let c = current() else { return (Self.networkError, nil) }
        guard (key == nil) != (prefix == nil) else { return (Self.badArgument, nil) }
        var cursor: WatchCursor?
        if let after {
            guard let parsed = WatchCursor(after) else { return (Self.badArgument, nil) }
            cursor = parsed
        }
        // The key or prefix is checked by the client's `watch` (invalidArgument: -3).
        // Returns once the watch knows where "now" is in every chain, so every change committed
        // after chainkv_watch_open returns is delivered.
        let start = cursor
        do {
            let stream = try blocking {
                if let key { return try await c.watch(key: key, after: start) }
                return try await c.watch(prefix: prefix!, after: start)
            }
            return (Self.ok, PaperWatch(stream))
        } catch let e as ChainKVError {
            return (Self.readStatus(e), nil)
        } catch {
            return (Self.networkError, nil)
        }
    }
}

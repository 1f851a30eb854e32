internal import ChainTransport
internal import NIOConcurrencyHelpers
internal import NIOCore

extension ChainKVClient {
    /// The executor of the event loop that carries this client's connections.
    ///
    /// Tasks that make many requests (a loop of gets and puts, a pipeline of them) may run on it:
    /// `withTaskExecutorPreference(client.taskExecutor) { ... }` or
    /// `group.addTask(executorPreference: client.taskExecutor) { ... }`. A request then costs no
    /// thread switch: it is written from the loop's own thread and its reply resumes the task
    /// there. Without it, every request hops to the loop's thread and its reply back to Swift's
    /// cooperative pool: two wake-ups. The bench's 32 closed-loop readers spent 19.1–21.3 µs of
    /// client CPU per read without it and 16.7–17.6 with it, and read 40,123–42,612 against
    /// 45,229–47,061/s (`bench/2026-12-06-client-executor`).
    ///
    /// Code running on it must not block (no locks held for long, no blocking I/O, no
    /// `DispatchSemaphore.wait`): it shares the thread with the client's connections.
    public var taskExecutor: any TaskExecutor { executor }

    /// Whether every connection the client has open runs on the loop of `taskExecutor` (tests).
    package var connectionsShareTheExecutorsLoop: Bool {
        state.withLockedValue { s in s.open.values.allSatisfy { $0.channel.eventLoop === loop } }
    }
}

extension ChainKVClient {
    /// Suspends the calling task for `nanoseconds` on a timer of the client's event loop (the
    /// bench's open loop, whose every request first waits for its due time). A task running on
    /// `taskExecutor` resumes on the loop's own thread, without the hop through a thread of
    /// Swift's pool that `Task.sleep` makes. Only while the client is open: NIO drops a timer
    /// scheduled on a loop that has shut down without failing it, and the wait would never end.
    package func sleepOnLoop(nanoseconds: UInt64) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let timer = loop.scheduleTask(in: .nanoseconds(Int64(clamping: nanoseconds))) { done.resume() }
            // A timer cancelled or failed by its loop does not run: then this resumes, and only then.
            timer.futureResult.whenFailure { _ in done.resume() }
        }
    }
}

import ChainCoordination
import ChainKV
import Synchronization

/// The failover benchmark's load: one closed-loop writer and, for chainkv, one closed-loop reader,
/// each on a session of its own, recording every success and failure in a timeline. A failed
/// operation is retried after 5 ms. A session that keeps failing for `reopenAfter` seconds (or
/// can never work again: a ZooKeeper session that expired) is closed and a new one opened; the
/// count is reported, since it hides whatever the client library would not recover from.
final class BenchFailoverLoad: Sendable {
    let writes = BenchFailoverTimeline()
    let reads: BenchFailoverTimeline?
    private let stopped = Atomic<Bool>(false)
    private let reopened = Atomic<Int>(0)
    private let tasks = Mutex<[Task<Void, Never>]>([])

    typealias Opener = @Sendable () async throws -> any BenchSession

    init(withReader: Bool) {
        reads = withReader ? BenchFailoverTimeline() : nil
    }

    var reopenedSessions: Int { reopened.load(ordering: .relaxed) }

    func start(keys: Int, values: BenchValuePool, seed: UInt64, reopenAfter: Double, open: @escaping Opener) {
        var started = [Task { await self.loop(write: true, timeline: self.writes, keys: keys, values: values, seed: seed,
                                              reopenAfter: reopenAfter, open: open) }]
        if let reads {
            started.append(Task { await self.loop(write: false, timeline: reads, keys: keys, values: values, seed: seed &+ 1,
                                                  reopenAfter: reopenAfter, open: open) })
        }
        tasks.withLock { $0 += started }
    }

    /// Stops both loops; an operation in flight is cancelled (its retries end), then waited for.
    func stop() async {
        stopped.store(true, ordering: .relaxed)
        let running = tasks.withLock { t in defer { t = [] }; return t }
        for t in running { t.cancel() }
        for t in running { await t.value }
    }

    /// Both loops completed an operation within the last `seconds`.
    func flowing(within seconds: Double) -> Bool {
        let since = benchNow() - UInt64(seconds * 1e9)
        return writes.succeeded(completedAfter: since) && (reads?.succeeded(completedAfter: since) ?? true)
    }

    /// Both loops succeeded with an operation invoked at or after `t`.
    func succeeded(invokedAfter t: UInt64) -> Bool {
        writes.succeeded(invokedAfter: t) && (reads?.succeeded(invokedAfter: t) ?? true)
    }

    private func loop(write: Bool, timeline: BenchFailoverTimeline, keys: Int, values: BenchValuePool, seed: UInt64,
                      reopenAfter: Double, open: Opener) async {
        var rng = BenchRNG(seed: seed)
        var session: (any BenchSession)?
        var lastSuccess = benchNow()
        var failuresInRow = 0
        var n = 0
        while !stopped.load(ordering: .relaxed) {
            if session == nil {
                do {
                    session = try await open()
                } catch {
                    timeline.failure(at: benchNow(), "opening a session: \(error)")
                    await BenchFailoverWait.sleep(0.1)
                    continue
                }
            }
            let index = rng.below(keys)
            n &+= 1
            let t0 = benchNow()
            do {
                if write {
                    try await session!.put(index, values.value(n))
                } else {
                    _ = try await session!.get(index)
                }
                let t1 = benchNow()
                timeline.success(invoked: t0, completed: t1)
                lastSuccess = t1
                failuresInRow = 0
            } catch {
                if stopped.load(ordering: .relaxed) { break }
                let now = benchNow()
                timeline.failure(at: now, "\(error)")
                failuresInRow += 1
                let hopeless = (error as? ZooKeeperError).map { $0 == .sessionExpired || $0 == .closed } ?? false
                if hopeless || (failuresInRow >= 3 && Double(now - lastSuccess) / 1e9 >= reopenAfter) {
                    await session?.close()
                    session = nil
                    reopened.add(1, ordering: .relaxed)
                    lastSuccess = now
                }
                await BenchFailoverWait.sleep(0.005)
            }
        }
        await session?.close()
    }
}

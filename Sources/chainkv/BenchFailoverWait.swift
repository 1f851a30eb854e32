import Foundation

/// Bounded waiting for the failover benchmark. Every wait polls with a deadline; blocking work
/// (sockets, process spawning) runs on a Dispatch thread, because the bench's tasks run on NIO's
/// event loops (see ChainKVCommand.main), where a blocking call would stall the load being measured.
enum BenchFailoverWait {
    static func sleep(_ seconds: Double) async {
        try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1e9))
    }

    /// Polls `condition` every `every` seconds until it returns a value or `timeout` seconds pass.
    static func until<T>(timeout: Double, every: Double = 0.1, _ condition: () async -> T?) async -> T? {
        let deadline = benchNow() + UInt64(max(0, timeout) * 1e9)
        while true {
            if let value = await condition() { return value }
            if benchNow() >= deadline || Task.isCancelled { return nil }
            await sleep(every)
        }
    }

    /// Polls `condition` until it holds (true) or `timeout` seconds pass (false).
    static func untilTrue(timeout: Double, every: Double = 0.1, _ condition: () async -> Bool) async -> Bool {
        await until(timeout: timeout, every: every) { await condition() ? true : nil } ?? false
    }

    /// Runs `work` on a Dispatch thread and returns its result.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    /// Milliseconds from `from` to `to` (monotonic nanoseconds; negative when `to` is earlier).
    static func ms(_ from: UInt64, _ to: UInt64) -> Double {
        to >= from ? Double(to - from) / 1e6 : -Double(from - to) / 1e6
    }
}

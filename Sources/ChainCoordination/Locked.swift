import NIOConcurrencyHelpers

/// A value behind a lock. The ZooKeeper C client calls back on its own pthreads, where neither actors nor
/// `await` are available, so state shared with those callbacks is guarded by a plain lock instead.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NIOLock()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
    }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try lock.withLock { try body(&value) }
    }
}

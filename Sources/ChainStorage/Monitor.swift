#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex with one condition variable, for state shared between submitting threads and
/// the committer thread. (Synchronization's `Mutex` has no condition variable, and Foundation is
/// avoided in this target.)
///
/// `@unchecked Sendable`: the pthread objects are made for sharing between threads; they live in
/// allocated memory because they must never move.
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        mutex.initialize(to: pthread_mutex_t())
        condition.initialize(to: pthread_cond_t())
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        #if canImport(Darwin)
        precondition(pthread_cond_init(condition, nil) == 0, "pthread_cond_init failed")
        #else
        // Timed waits measure the monotonic clock: a step of the wall clock (an NTP correction,
        // `date -s`) must not stretch a commit delay or a checkpoint interval.
        var attributes = pthread_condattr_t()
        precondition(pthread_condattr_init(&attributes) == 0, "pthread_condattr_init failed")
        defer { pthread_condattr_destroy(&attributes) }
        precondition(pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC) == 0, "pthread_condattr_setclock failed")
        precondition(pthread_cond_init(condition, &attributes) == 0, "pthread_cond_init failed")
        #endif
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deinitialize(count: 1)
        condition.deallocate()
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        precondition(pthread_mutex_lock(mutex) == 0, "pthread_mutex_lock failed")
        defer { precondition(pthread_mutex_unlock(mutex) == 0, "pthread_mutex_unlock failed") }
        return try body()
    }

    /// Releases the lock until `broadcast()` (or a spurious wakeup), then takes it back.
    /// Only inside `withLock`, and always in a loop that rechecks its condition.
    func wait() {
        precondition(pthread_cond_wait(condition, mutex) == 0, "pthread_cond_wait failed")
    }

    /// Like `wait()`, but returns after about `nanoseconds` at the latest (by the monotonic clock
    /// on Linux, the condition's clock; Darwin has only the wall clock for this).
    func wait(nanoseconds: Int) {
        var now = timespec()
        #if canImport(Darwin)
        clock_gettime(CLOCK_REALTIME, &now)
        #else
        clock_gettime(CLOCK_MONOTONIC, &now)
        #endif
        let total = Int(now.tv_nsec) + nanoseconds
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + total / 1_000_000_000
        deadline.tv_nsec = total % 1_000_000_000
        let rc = pthread_cond_timedwait(condition, mutex, &deadline)
        precondition(rc == 0 || rc == ETIMEDOUT, "pthread_cond_timedwait failed: \(rc)")
    }

    /// Wakes every waiter. There are few (the committer and callers blocked in stop or
    /// withExclusiveStore), and each rechecks its own condition.
    func broadcast() {
        pthread_cond_broadcast(condition)
    }
}

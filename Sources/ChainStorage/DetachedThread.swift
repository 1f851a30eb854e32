#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The storage's own threads (the group committer, the checkpointer): each runs one loop on a
/// thread of its own, since an fsync or a checkpoint blocks for milliseconds and must not hold
/// an event loop or a thread of Swift's cooperative pool. Nobody joins them: each loop's owner
/// waits for its loop to say it has exited instead, which any number of callers can do.
enum DetachedThread {
    /// Starts a detached thread that runs `body` once. The thread holds `body`, and with it what
    /// `body` captures, until `body` returns: a loop started this way outlives its owner's deinit.
    /// A thread that cannot be started is a fatal error naming `what` (the process could not
    /// store anything).
    static func start(_ what: String, _ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        let rc = pthread_create(&thread, nil, { context in
            detachedThreadMain(context)
            return nil
        }, context)
        #else
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            detachedThreadMain(context!)
            return nil
        }, context)
        #endif
        guard rc == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            preconditionFailure("cannot start the \(what) thread: pthread_create returned \(rc)")
        }
        #if canImport(Darwin)
        pthread_detach(thread!)
        #else
        pthread_detach(thread)
        #endif
    }
}

/// What a detached thread runs, boxed to cross `pthread_create`'s raw pointer.
private final class ThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Entry point of a detached thread: takes over the reference retained by `start`.
private func detachedThreadMain(_ context: UnsafeMutableRawPointer) {
    Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().body()
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Names the calling thread, so that `top -H`, `perf report --sort comm` and
/// /proc/PID/task/TID/comm tell the storage threads apart from the event loop that started them
/// (a new thread inherits its creator's name). Glibc's `pthread_setname_np` is not visible to
/// Swift (it needs _GNU_SOURCE), so on Linux this writes the thread's `comm` file instead.
/// Best effort: a name that cannot be set changes nothing else.
enum ThreadName {
    /// Linux keeps at most 15 bytes of a thread name.
    static let maxBytes = 15

    static func set(_ name: String) {
        precondition(name.utf8.count <= maxBytes, "thread name \(name) is longer than \(maxBytes) bytes")
        #if canImport(Darwin)
        pthread_setname_np(name)
        #else
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = name.withCString { write(fd, $0, strlen($0)) }
        #endif
    }
}

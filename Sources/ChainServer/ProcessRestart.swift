import ChainCoordination
import FoundationEssentials
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Restarting the server in place (after a full disk, `ServerNode+DiskFull`): exec of the same
/// program and arguments, same pid, a new `startedAt` (so a new incarnation).
///
/// Every descriptor the server opened closes on exec (databases and their locks, sockets, the
/// listener), but not those it inherited: its parent may watch one to learn when the process ends
/// (Foundation's `Process` does, with a socket; closing it made a fault runner take the server
/// for exited, and waiting for that exit then stalled its reaping of every other child).
public enum ProcessRestart {
    /// Descriptors above 2 open when the process started (`recordInheritedDescriptors`).
    private static let inherited = Locked<Set<Int32>>([])

    /// Notes the descriptors the parent handed down; call first thing in `main`.
    public static func recordInheritedDescriptors() {
        let open = openDescriptors()
        inherited.withLock { $0 = open }
    }

    static func openDescriptors() -> Set<Int32> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(names.compactMap { Int32($0) }.filter { $0 > 2 })
    }

    /// Replaces the process; exits with the fail-stop status if exec fails.
    static func exec(logger: Logger) -> Never {
        let keep = inherited.withLock { $0 }
        for fd in openDescriptors() where !keep.contains(fd) { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var arguments = CommandLine.arguments.map { strdup($0) }
        arguments.append(nil)
        execv("/proc/self/exe", &arguments)
        logger.critical("cannot restart (exec failed); exiting", metadata: ["errno": "\(errno)"])
        _exit(DiskFaultHandler.failStopStatus)
    }
}

import Foundation
import Glibc

/// A child started with posix_spawn and reaped with waitpid, for scripts/zk. Foundation's Process
/// notices an exit only once every descendant has closed a socket it hands down, so a script that
/// leaves a daemon behind (scripts/zk starting a JVM) never exits for it. The child gets default
/// signal handling (this process ignores SIGINT, SIGTERM and SIGHUP; a JVM that inherited that
/// would ignore `scripts/zk stop`), and a shell closes every inherited descriptor above 2 (this
/// process's sockets) before running the command.
enum BenchFailoverSpawn {
    /// Starts `command` with `arguments`, stdin from /dev/null, stdout and stderr appended to `log`.
    static func start(_ command: String, _ arguments: [String], log: String) -> pid_t? {
        let closeAndRun = "for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ \"$n\" -gt 2 ]; then eval \"exec $n>&-\" 2>/dev/null; fi; done; exec \"$@\""
        let argv = ["/bin/bash", "-c", closeAndRun, "bash", command] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), empty = sigset_t()
        sigfillset(&defaults)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var pid = pid_t()
        guard posix_spawn(&pid, "/bin/bash", &actions, &attributes, cArgs, cEnv) == 0 else { return nil }
        return pid
    }

    /// The exit status once the child has exited (and is reaped now), nil while it runs.
    static func reap(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == 0 { return nil }
        if r < 0 { return -1 }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

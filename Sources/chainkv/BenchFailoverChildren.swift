import Foundation
import Glibc
import Synchronization

/// Pids of the processes this run started (servers, scripts/zk restarts), so that SIGINT, SIGTERM
/// or SIGHUP stops them before the bench exits. Only these pids are ever signalled here.
enum BenchFailoverChildren {
    private static let pids = Mutex<Set<pid_t>>([])
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func add(_ pid: pid_t) { _ = pids.withLock { $0.insert(pid) } }
    static func remove(_ pid: pid_t) { _ = pids.withLock { $0.remove(pid) } }

    /// Continues (if stopped) and kills every process still registered.
    static func killAll() {
        for pid in pids.withLock({ $0 }) {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
        }
    }

    /// Call once, before starting anything.
    static func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                BenchFailoverLog.write("failover: signal \(sig): stopping the servers this run started\n")
                killAll()
                _exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}

import ChainTestSupport
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The loopback addresses of one run's servers: a block of `size` addresses 127.0.1.(base+i), of
/// its own, so that packet filter rules on addresses cut this run's links only. Blocks start at
/// 127.0.1.16 (the integration tests use 127.0.1.1–15). A block is taken with a lock file
/// (`flock`, released when the run ends or the process does) and only when no TCP socket of the
/// machine uses one of its addresses, so concurrent runners and tests do not share one.
final class HostBlock: @unchecked Sendable {
    static let size = 8
    static let first = 16
    static let count = 29  // blocks 16–23, ..., 240–247
    let base: Int
    private var lockFD: Int32

    private init(base: Int, lockFD: Int32) {
        self.base = base
        self.lockFD = lockFD
    }

    deinit { release() }

    /// Address of server `i` (0-based).
    func host(_ i: Int) -> String {
        precondition(i < Self.size)
        return "127.0.1.\(base + i)"
    }

    var description: String { "127.0.1.\(base)–\(base + Self.size - 1)" }

    /// The first free block from block `start` on (mod `count`).
    static func claim(start: Int) throws -> HostBlock {
        for step in 0..<count {
            let base = first + ((start + step) % count) * size
            let path = NSTemporaryDirectory() + "chainkv-torture-hosts-\(base).lock"
            let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
            guard fd >= 0 else { continue }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                close(fd)
                continue
            }
            if inUse(base..<(base + size)) {
                flock(fd, LOCK_UN)
                close(fd)
                continue
            }
            return HostBlock(base: base, lockFD: fd)
        }
        throw TortureError("no free block of \(size) addresses in 127.0.1.\(first)–\(first + count * size - 1)")
    }

    func release() {
        guard lockFD >= 0 else { return }
        flock(lockFD, LOCK_UN)
        close(lockFD)
        lockFD = -1
    }

    /// Whether a TCP socket of the machine has one of 127.0.1.`last` as its local or remote address.
    private static func inUse(_ last: Range<Int>) -> Bool {
        let words = Set(last.compactMap { ProcNetTCP.hexIP("127.0.1.\($0)") })
        return ProcNetTCP.sockets().contains { words.contains(String($0.local.prefix(8))) || words.contains(String($0.remote.prefix(8))) }
    }
}

/// One run's cuts between loopback addresses: a `PacketFilter` table of its own, with a count per
/// link so that overlapping faults that cut the same link each heal only their own cut.
final class NetworkCuts: @unchecked Sendable {
    /// The clients' address: the runner's connections (workload, watchers, status polls) leave
    /// from it (the kernel picks 127.0.0.1 for loopback), ZooKeeper's traffic goes to and from it
    /// (servers reach it through proxies on 127.0.0.1), and servers listen elsewhere (127.0.1.x).
    static let clientHost = "127.0.0.1"
    static let tablePrefix = "chainkv_torture_"

    private let filter: PacketFilter
    private let lock = NSLock()
    private var counts: [PacketFilter.Link: Int] = [:]
    /// nft failures (reported as remarks by the nemesis).
    private(set) var failures: [String] = []

    var table: String { filter.table }

    /// A table named for this process and the run's seed; registered for removal at exit.
    init(seed: UInt64) throws {
        filter = try PacketFilter(name: "\(Self.tablePrefix)\(getpid())_\(seed)")
        ExitCleanup.register(table: filter.table)
    }

    func cut(_ from: String, _ to: String) {
        let link = PacketFilter.Link(from: from, to: to)
        lock.withLock {
            counts[link, default: 0] += 1
            guard counts[link] == 1 else { return }
            do { try filter.cut(link) } catch { failures.append("cut \(link): \(error)") }
        }
    }

    func heal(_ from: String, _ to: String) {
        let link = PacketFilter.Link(from: from, to: to)
        lock.withLock {
            guard let n = counts[link] else { return }
            counts[link] = n > 1 ? n - 1 : nil
            guard n == 1 else { return }
            do { try filter.heal(link) } catch { failures.append("heal \(link): \(error)") }
        }
    }

    func cutBoth(_ a: String, _ b: String) {
        cut(a, b)
        cut(b, a)
    }

    func healBoth(_ a: String, _ b: String) {
        heal(a, b)
        heal(b, a)
    }

    /// Links cut now.
    var cutLinks: Set<PacketFilter.Link> { filter.cutLinks }

    /// Every cut taken away (the end of a run's faults).
    func healAll() {
        lock.withLock {
            counts = [:]
            do { try filter.heal() } catch { failures.append("heal all: \(error)") }
        }
    }

    /// Deletes the table (the end of the run).
    func remove() {
        filter.remove()
        ExitCleanup.unregister(table: filter.table)
    }

    /// Deletes tables of ours that a runner which no longer exists left behind (killed, or
    /// crashed before its run's end): named `chainkv_torture_<pid>_<seed>`, pid not alive.
    static func removeStaleTables() -> [String] {
        var removed: [String] = []
        for name in PacketFilter.tableNames() where name.hasPrefix(tablePrefix) {
            let rest = name.dropFirst(tablePrefix.count)
            guard let pid = rest.split(separator: "_").first.flatMap({ pid_t($0) }), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                PacketFilter.deleteTable(name)
                removed.append(name)
            }
        }
        return removed
    }
}

/// What must not outlive the runner if it is interrupted (SIGINT, SIGTERM, SIGHUP): its nft
/// tables (every cut would stay in the kernel) and its child processes. A normal end removes
/// both itself; this is the interrupted path.
enum ExitCleanup {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var tables: Set<String> = []
    nonisolated(unsafe) private static var children: [ObjectIdentifier: Child] = [:]
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func register(table: String) { lock.withLock { _ = tables.insert(table) } }
    static func unregister(table: String) { lock.withLock { _ = tables.remove(table) } }
    static func register(child: Child) { lock.withLock { children[ObjectIdentifier(child)] = child } }

    /// Installs the handlers (once, at the runner's start).
    static func install() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let (names, kids) = lock.withLock { (tables, Array(children.values)) }
                for name in names { PacketFilter.deleteTable(name) }
                for child in kids where child.isRunning {
                    kill(child.pid, SIGCONT)
                    kill(child.pid, SIGKILL)
                }
                FileHandle.standardError.write(Data("chainkv-torture: signal \(sig): removed \(names.count) nft tables, killed the runner's processes\n".utf8))
                exit(128 + sig)
            }
            source.resume()
            lock.withLock { sources.append(source) }
        }
    }
}

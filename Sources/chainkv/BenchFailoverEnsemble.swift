import Foundation
import Glibc

/// The ZooKeeper ensemble scripts/zk started under a base folder (<base>/zk/<n>/zoo.cfg and pid):
/// which server leads, the pid scripts/zk recorded for each (checked to be that server's JVM), and
/// scripts/zk again to start a killed one.
struct BenchFailoverEnsemble: Sendable {
    struct Server: Sendable {
        var name: String
        var folder: URL
        var clientPort: Int
        var config: URL
    }

    let base: URL
    let script: URL
    let servers: [Server]

    init(base: URL, script: URL) throws {
        self.base = base
        self.script = script
        let root = base.appendingPathComponent("zk")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { Int($0) != nil }.sorted()
        servers = names.compactMap { name in
            let folder = root.appendingPathComponent(name)
            let config = folder.appendingPathComponent("zoo.cfg")
            guard let port = Self.settings(of: config)["clientPort"].flatMap({ Int($0) }) else { return nil }
            return Server(name: name, folder: folder, clientPort: port, config: config)
        }
        guard servers.count >= 3 else {
            throw BenchError("no ZooKeeper ensemble of 3 servers under \(root.path) (start one with scripts/zk start --base \(base.path))")
        }
        guard FileManager.default.isExecutableFile(atPath: script.path) else { throw BenchError("\(script.path) is not executable") }
    }

    var connectString: String { servers.map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ",") }

    /// key=value lines of a zoo.cfg.
    static func settings(of config: URL) -> [String: String] {
        let text = (try? String(contentsOf: config, encoding: .utf8)) ?? ""
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[line[..<eq].trimmingCharacters(in: .whitespaces)] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    /// The settings that shape failover (no paths, ports or peers), for the results.
    var timing: [String: String] {
        Self.settings(of: servers[0].config).filter { ["tickTime", "initLimit", "syncLimit", "minSessionTimeout", "maxSessionTimeout"].contains($0.key) }
    }

    /// The pid in the server's pid file, if that process is alive and is the JVM of this config.
    func pid(_ server: Server) -> pid_t? {
        guard let text = try? String(contentsOf: server.folder.appendingPathComponent("pid"), encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), Self.alive(pid) else { return nil }
        let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        let args = String(decoding: cmdline, as: UTF8.self).split(separator: "\0").map(String.init)
        guard args.contains("org.apache.zookeeper.server.quorum.QuorumPeerMain"), args.contains(server.config.path) else { return nil }
        return pid
    }

    /// Alive and not a zombie (an orphan killed here may wait for its reaper a while).
    static func alive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return true }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// "leader", "follower" (or "standalone"), from `srvr`; nil when not serving or not answering.
    func mode(_ server: Server) async -> String? {
        guard let answer = await BenchFailoverSocket.exchange(port: server.clientPort, text: "srvr") else { return nil }
        for line in answer.split(separator: "\n") where line.hasPrefix("Mode: ") {
            return String(line.dropFirst("Mode: ".count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// Every server's mode, by name (missing: not serving).
    func modes() async -> [String: String] {
        await withTaskGroup(of: (String, String?).self) { group in
            for s in servers { group.addTask { (s.name, await mode(s)) } }
            var out: [String: String] = [:]
            for await (name, mode) in group { if let mode { out[name] = mode } }
            return out
        }
    }

    /// Runs `scripts/zk start --base <base>`, which starts the servers that are not running and waits
    /// until all serve; false if it failed or took longer than `timeout` seconds (then it is killed).
    func restart(timeout: Double) async -> Bool {
        let log = base.appendingPathComponent("zk").appendingPathComponent("restarts.log").path
        let script = self.script.path, base = self.base.path
        guard let pid = await BenchFailoverWait.blocking({ BenchFailoverSpawn.start(script, ["start", "--base", base], log: log) }) else {
            return false
        }
        BenchFailoverChildren.add(pid)
        defer { BenchFailoverChildren.remove(pid) }
        var status: Int32?
        let done = await BenchFailoverWait.untilTrue(timeout: timeout, every: 0.05) {
            status = BenchFailoverSpawn.reap(pid)
            return status != nil
        }
        if !done {
            kill(pid, SIGKILL)
            _ = await BenchFailoverWait.untilTrue(timeout: 5, every: 0.05) { BenchFailoverSpawn.reap(pid) != nil }
        }
        return status == 0
    }
}

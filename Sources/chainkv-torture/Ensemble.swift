import ChainTestSupport
import Foundation

/// A three-server ZooKeeper ensemble on free loopback ports, in its own folder.
final class Ensemble: @unchecked Sendable {
    let servers: [Child]
    let clientPorts: [Int]

    init(base: URL) throws {
        let n = 3
        let ports = (0..<n).map { _ in (client: LoopbackPorts.free(), quorum: LoopbackPorts.free(), election: LoopbackPorts.free()) }
        clientPorts = ports.map(\.client)
        let peers = ports.enumerated().map { "server.\($0.offset + 1)=127.0.0.1:\($0.element.quorum):\($0.element.election)" }
        var servers: [Child] = []
        for i in 0..<n {
            let dir = base.appendingPathComponent("zk\(i + 1)")
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
            try "\(i + 1)\n".write(to: dir.appendingPathComponent("data/myid"), atomically: true, encoding: .utf8)
            // tickTime 500 ms: sessions down to 1 s, and a quick leader election after a kill.
            let cfg = """
            tickTime=500
            initLimit=20
            syncLimit=10
            dataDir=\(dir.path)/data
            clientPort=\(ports[i].client)
            clientPortAddress=127.0.0.1
            admin.enableServer=false
            4lw.commands.whitelist=srvr,ruok
            maxSessionTimeout=60000
            \(peers.joined(separator: "\n"))
            """
            try cfg.write(to: dir.appendingPathComponent("zoo.cfg"), atomically: true, encoding: .utf8)
            let log = dir.appendingPathComponent("zk.log")
            servers.append(Child(name: "zk\(i + 1)") {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/java")
                p.arguments = ["-Xmx200m", "-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar",
                               "org.apache.zookeeper.server.quorum.QuorumPeerMain", dir.appendingPathComponent("zoo.cfg").path]
                let h = logFile(log)
                p.standardOutput = h
                p.standardError = h
                return p
            })
        }
        self.servers = servers
    }

    var connectString: String { clientPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    func start() throws {
        for s in servers { try s.start() }
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if clientPorts.filter({ Self.serving($0) }).count == clientPorts.count { return }
            usleep(200_000)
        }
        throw TortureError("the ZooKeeper ensemble did not start within 90 s")
    }

    /// Whether the server on `port` answers `srvr` as part of a quorum.
    static func serving(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { return false }
        _ = "srvr".withCString { send(fd, $0, 4, Int32(MSG_NOSIGNAL)) }
        var buf = [UInt8](repeating: 0, count: 2048)
        var text = ""
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            text += String(decoding: buf[0..<n], as: UTF8.self)
        }
        return text.contains("Mode: leader") || text.contains("Mode: follower")
    }

    func stop() { for s in servers { s.stop() } }
}

struct TortureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

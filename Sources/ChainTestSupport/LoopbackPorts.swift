#if canImport(Glibc)
import Glibc
#endif
import Synchronization

public enum LoopbackPorts {
    private static let handedOut = Mutex<Set<Int>>([])

    /// A loopback TCP port nothing listens on now, below Linux's ephemeral range (32768–60999):
    /// a port the kernel hands out for bind(0) or an outbound connection could be taken by
    /// someone else before our server binds it.
    ///
    /// A port is handed out once per process: two draws that nothing listens on yet (a server's
    /// port and its metrics port, before either binds) must not be the same port (a cluster
    /// fixture once gave a server its own port as metrics port, and it refused to start).
    ///
    /// `host`: the loopback address the port must be free on (a server of the fault runner listens
    /// on 127.0.1.x of its own).
    public static func free(on host: String = "127.0.0.1") -> Int {
        while true {
            let port = Int.random(in: 20000..<32000)
            guard handedOut.withLock({ !$0.contains(port) }) else { continue }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr(host)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            let ok = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
            close(fd)
            if ok, handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
    }
}

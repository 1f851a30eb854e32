#if canImport(Glibc)
import Glibc
#endif

public enum LoopbackPorts {
    /// A loopback TCP port nothing listens on now, below Linux's ephemeral range (32768–60999):
    /// a port the kernel hands out for bind(0) or an outbound connection could be taken by
    /// someone else before our server binds it.
    public static func free() -> Int {
        while true {
            let port = Int.random(in: 20000..<32000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            let ok = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
            close(fd)
            if ok { return port }
        }
    }
}

import Foundation
import Glibc

/// Small blocking loopback TCP exchanges (ZooKeeper's four-letter words, port checks), run off the
/// event loops through BenchFailoverWait.blocking.
enum BenchFailoverSocket {
    /// Sends `text` to 127.0.0.1:`port`, reads until the server closes; nil if nothing answers within `timeout`.
    static func exchange(port: Int, text: String, timeout: Int = 1) async -> String? {
        await BenchFailoverWait.blocking {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var tv = timeval(tv_sec: timeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            guard connectLoopback(fd, port) else { return nil }
            _ = text.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            var answer: [UInt8] = []
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { break }
                answer += buffer[0..<n]
            }
            return answer.isEmpty ? nil : String(decoding: answer, as: UTF8.self)
        }
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    static func listening(port: Int) async -> Bool {
        await BenchFailoverWait.blocking {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            return connectLoopback(fd, port)
        }
    }

    private static func connectLoopback(_ fd: Int32, _ port: Int) -> Bool {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

import Foundation

/// The machine's IPv4 TCP sockets, as `/proc/net/tcp` lists them. Addresses stay in its text
/// form: the 32-bit word in host order (little-endian here) and the port, in hex, so that
/// 127.0.1.40:28106 is "2801007F:6DCA" (`hex(_:)`).
struct ProcNetTCP {
    struct Socket {
        var local: String
        var remote: String
        /// `include/net/tcp_states.h`, in hex: "01" established, "04" FIN-WAIT-1, ...
        var state: String
        /// Bytes sent but not yet acknowledged by the peer.
        var sendQueue: Int
    }

    /// Every socket listed now (empty if the file cannot be read).
    static func sockets() -> [Socket] {
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return [] }
        return table.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count > 4 else { return nil }
            let sendQueue = f[4].split(separator: ":").first.flatMap { Int($0, radix: 16) } ?? 0
            return Socket(local: String(f[1]), remote: String(f[2]), state: String(f[3]), sendQueue: sendQueue)
        }
    }

    /// The address word of an IPv4 address ("127.0.1.40" → "2801007F").
    static func hexIP(_ ip: some StringProtocol) -> String? {
        let octets = ip.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return nil }
        return octets.reversed().map { String(format: "%02X", $0) }.joined()
    }

    /// "127.0.1.40:28106" → "2801007F:6DCA".
    static func hex(_ hostPort: String) -> String? {
        let parts = hostPort.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), let ip = hexIP(parts[0]) else { return nil }
        return "\(ip):\(String(format: "%04X", port))"
    }
}

import Foundation

/// Requests a client sent and then gave up on can still arrive: a client that closed its
/// connection while a cut dropped its packets leaves the kernel retransmitting the request (an
/// orphaned socket in FIN-WAIT-1, for up to a minute), and once the cut heals the head takes it
/// as the write it is (an unknown outcome may take effect at any time). CI seed 3 (5 chains): a
/// delete sent to a head cut from its clients arrived about 15 s later, after the final quiet
/// check, while the servers were being stopped for the convergence check, so the tail's file
/// lacked it. Before checking, the runner waits until no socket of its own (from 127.0.0.1) to a
/// server still has data or a close to deliver.
enum ClientDrain {
    /// TCP states (`/proc/net/tcp`, `include/net/tcp_states.h`) in which a closed socket may still
    /// deliver what it sent: FIN-WAIT-1, CLOSING, LAST-ACK.
    static let closingStates: Set<String> = ["04", "0B", "09"]
    /// Longest to wait (Linux gives up an orphaned socket after about 50 s of retransmissions).
    static let waitMax: TimeInterval = 75

    /// Sockets from 127.0.0.1 to one of `servers` ("ip:port") that still have data to deliver.
    static func undelivered(to servers: [String]) -> Int {
        let wanted = Set(servers.compactMap(hexAddress))
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return 0 }
        var count = 0
        for line in table.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count > 4, f[1].hasPrefix("0100007F:"), wanted.contains(String(f[2])) else { continue }
            let sendQueue = f[4].split(separator: ":").first.flatMap { Int($0, radix: 16) } ?? 0
            if closingStates.contains(String(f[3])) || sendQueue > 0 { count += 1 }
        }
        return count
    }

    /// Waits until `undelivered(to:)` is 0, at most `waitMax`; returns the count left.
    static func wait(for servers: [String]) async -> Int {
        let deadline = Date().addingTimeInterval(waitMax)
        var left = undelivered(to: servers)
        while left > 0, Date() < deadline {
            try? await Task.sleep(nanoseconds: 250_000_000)
            left = undelivered(to: servers)
        }
        return left
    }

    /// "127.0.1.40:28106" as /proc/net/tcp writes it: "2801007F:6DCA".
    static func hexAddress(_ hostPort: String) -> String? {
        let parts = hostPort.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { return nil }
        let octets = parts[0].split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return nil }
        let ip = octets.reversed().map { String(format: "%02X", $0) }.joined()
        return "\(ip):\(String(format: "%04X", port))"
    }
}

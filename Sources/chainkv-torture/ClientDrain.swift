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
        let wanted = Set(servers.compactMap(ProcNetTCP.hex))
        let client = ProcNetTCP.hexIP("127.0.0.1")! + ":"
        return ProcNetTCP.sockets().filter { s in
            s.local.hasPrefix(client) && wanted.contains(s.remote) && (closingStates.contains(s.state) || s.sendQueue > 0)
        }.count
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
}

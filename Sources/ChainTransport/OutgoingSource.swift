internal import NIOConcurrencyHelpers
package import NIOCore

/// The local address a server's own outgoing connections (to its successor, the leader's links,
/// snapshots, slot copies, probes) are bound to: the address it listens on, so that a peer, a
/// firewall rule or a test's packet filter sees each server's traffic come from that server's
/// own address. Unset (clients, or a server listening on a wildcard) leaves the choice to the
/// kernel, which on one machine's loopback picks 127.0.0.1 for every peer.
///
/// Process-wide and set once at a server's start, before it dials anything (`ChainServer`).
package enum OutgoingSource {
    private static let box = NIOLockedValueBox<SocketAddress?>(nil)

    /// Binds later outgoing connections to `host` (an IP address; port 0: any). nil unbinds.
    package static func set(_ host: String?) throws {
        let address = try host.map { try SocketAddress(ipAddress: $0, port: 0) }
        box.withLockedValue { $0 = address }
    }

    package static var address: SocketAddress? { box.withLockedValue { $0 } }
}

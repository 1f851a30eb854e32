/// Everything that can happen to a replica. The shell turns sockets, disk completions and
/// ZooKeeper watches into these, one at a time, in the order they happened.
public enum ReplicaEvent: Equatable, Sendable {
    /// A newer chain configuration was read from ZooKeeper. Older or equal epochs are ignored.
    case viewChanged(ChainView)
    /// A client asks the head to write. `stored` is the key's value and version in local storage
    /// (nil: absent); the core uses it only when `needsStoredValue(for:)` says so (no write to the
    /// key is in flight). `request` identifies the write across client retries (nil: the client
    /// gave no id). `ifVersion` makes the write conditional: it applies only if the key's version,
    /// in sequence order just before it, is that one (0: the key must be absent). `move`: the
    /// write is a slot move's (`MoveMark`), not a client's; it is never conditional. `hashed`: the
    /// key as the shell already hashed it for `needsStoredValue(for:)` (nil: the core hashes it),
    /// so that a write hashes its key once per replica.
    case clientWrite(ClientRef, key: String, value: [UInt8]?, stored: VersionedValue?, request: RequestID?, ifVersion: UInt64? = nil,
                     move: MoveMark? = nil, hashed: ByteKey? = nil)
    /// The predecessor forwarded an update. `stored` and `hashed` as for `clientWrite`.
    case forward(from: NodeID, epoch: UInt64, Update, stored: VersionedValue?, hashed: ByteKey? = nil)
    /// The successor acknowledges every update up to `seq`: it and every node after it have them on disk.
    case ack(from: NodeID, epoch: UInt64, seq: UInt64)
    /// Local storage committed (fsynced) every update up to `seq`.
    case persisted(through: UInt64)
    /// The outbound link to `node` finished its handshake (fresh TCP connection). Nothing is sent
    /// on it until the successor's first ack says how far it is.
    case successorLinkUp(NodeID)
    /// An inbound peer link from `node` finished its handshake, or closed.
    case predecessorLink(NodeID, up: Bool)
    /// This node may answer reads until tick `until` (renewed while its ZooKeeper session is
    /// confirmed live; see `Replica.read`).
    case lease(until: UInt64)
    /// The server is stopping: it answers no read from now on, whatever renewals still arrive.
    /// The shell sends this before it closes its ZooKeeper session, because the leader drops a
    /// member whose znode vanished with its session at once, without waiting out a lease.
    case leaseRevoked
    /// Sent by the shell every second: re-sends this node's ack to its predecessor, so that a
    /// lost ack (the position a new link waits for) is repeated.
    case refresh
}

/// The answer to one client request, decided by the core and sent by the shell.
public enum Reply: Equatable, Sendable {
    /// Get: the committed value with its version, or nil when the key does not exist.
    case value(VersionedValue?)
    /// Put committed: the value the key had just before this update in sequence order (nil: new
    /// key), and the version the put created (its sequence number).
    case put(old: [UInt8]?, version: UInt64)
    /// Delete committed (also of a key that did not exist); `version` is the delete's sequence number.
    case delete(existed: Bool, version: UInt64)
    /// A conditional write whose condition failed, committed in sequence order having changed
    /// nothing: `current` is the key's version at that point (0: absent).
    case conditionFailed(current: UInt64)
    case error(ChainError)
}

/// Why the core refused or abandoned a request. Each maps to a wire error code.
public enum ChainError: Equatable, Sendable {
    /// This node is not the head of the current view; `head` is the head it knows of.
    case notHead(head: NodeID?)
    /// The chain changed while the write was in flight; the write may or may not commit. Retry.
    case chainChanged
    /// Too many writes in flight; retry later.
    case overloaded
    /// The head cannot be sure it still is the head (its ZooKeeper lease lapsed), so it does not
    /// answer reads until the lease is renewed: a new head may already be serving writes.
    case noLease
    /// A retry of a put that this node's in-memory history no longer holds (it restarted, got
    /// the write in a snapshot, or the write is older than the history's window), whose old
    /// value was too large to keep on disk (`CoreLimits.outcomeValueKeptMax`): it was applied
    /// once and is not applied again, but its old value cannot be returned.
    case oldValueNotKept
    /// The head role is moving to `to` (`ChainView.handoff`): no new write is sequenced here
    /// meanwhile. Retry shortly; the chain is reordered within a few heartbeats.
    case handingOff(to: NodeID)
}

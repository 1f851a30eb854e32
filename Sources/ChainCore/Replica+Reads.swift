/// What the replica answers without changing state: reads at the head, and whether writes of some
/// keys are in flight (a slot move waits for them).
extension Replica {
    /// Whether a write of a key `matching` is in flight (sequenced, not yet committed).
    public func hasPendingWrite(matching: (String) -> Bool) -> Bool {
        (0..<inflight.count).contains { matching(inflight[offset: $0].update.key) }
    }

    /// Serves a read at the head from committed state. `stored` is consulted only when
    /// `needsStoredValue(for:)` is true. Reads change no state, so they bypass `on(_:)`.
    ///
    /// A head answers only while its lease holds (`now < leaseUntil`): the shell renews the lease
    /// only while ZooKeeper confirms its session, and keeps it shorter than the session timeout,
    /// so the lease runs out before ZooKeeper can expire the session and a new head be named.
    public func read(_ key: String, stored: VersionedValue?, now: UInt64) -> Reply {
        read(ByteKey(key), stored: stored, now: now)
    }

    /// `read(_:stored:now:)` of a key the shell already hashed for `needsStoredValue(for:)`.
    public func read(_ key: ByteKey, stored: VersionedValue?, now: UInt64) -> Reply {
        guard role.isHead else { return .error(.notHead(head: view.head)) }
        guard now < leaseUntil else { return .error(.noLease) }
        let index = keyStates.index(forKey: key)
        if let index, let pending = keyStates.values[index].pending { return .value(pending.committed) }
        return .value(committedValue(at: index, stored: stored))
    }
}

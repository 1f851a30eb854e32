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
        read(ByteKey(key), stored: { stored }, now: { now })
    }

    /// A read with one lookup of the key (issue 18, cut 23: a get looked it up twice, once for
    /// `needsStoredValue` and once here, and copied its state out each time). `stored` reads the
    /// key from local storage; it is called only when neither a write in flight nor a cached change
    /// answers. `now` is read after it: a read of a cold page can take longer than the lease has
    /// left, and the answer must not outlive the lease.
    public func read(_ key: ByteKey, stored: () throws -> VersionedValue?, now: () -> UInt64) rethrows -> Reply {
        guard role.isHead else { return .error(.notHead(head: view.head)) }
        let value: VersionedValue?
        let state = keyStates.index(forKey: key).map { keyStates.values[$0] }  // one copy
        if let state, !state.isEmpty {
            // A write in flight answers first, then the key's cached change.
            value = state.pending.map { $0.committed } ?? Self.committedValue(state, stored: nil)
        } else {
            // A state with neither part is removed (asserted where it changes); should one be
            // left, storage still answers.
            assert(state == nil, "a key state with neither part is removed")
            value = try stored()
        }
        guard now() < leaseUntil else { return .error(.noLease) }
        return .value(value)
    }
}

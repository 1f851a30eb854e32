/// The entries the replica keeps per write and per key: a write in flight (`inflight`), a key
/// with writes in flight (`pendingKeys`), and a key's newest committed change (`historyValues`).
extension Replica {
    struct InflightEntry: Sendable {
        var update: Update
        /// `update.key`, hashed once.
        var key: ByteKey
        /// Clients waiting for this write (the original request and its retries). Only at a head.
        var clients: [ClientRef]
        /// The key's value just before this update in sequence order.
        var old: VersionedValue?
        /// The key's value just after it.
        var after: VersionedValue?

        /// Always known: an in-flight entry holds what it replaced (only the history drops it).
        var reply: Reply { Replica.reply(to: update, replaced: Replaced(old, update: update))! }
    }

    struct PendingKey: Sendable {
        /// The value after every committed update: what a read returns.
        var committed: VersionedValue?
        /// The value after every update held: what the next write reports as old, and what a
        /// conditional write is checked against.
        var latest: VersionedValue?
        /// Updates to this key in flight.
        var count: Int
    }

    /// The newest committed change of a key (`historyValues`).
    struct HistoryValue: Sendable {
        /// The update's seq: the version it gave the key, and how a stale `valueOrder` record is recognized.
        var seq: UInt64
        /// The key's value after it (nil: deleted).
        var value: [UInt8]?

        var versioned: VersionedValue? { value.map { VersionedValue($0, version: seq) } }
    }
}

/// The entries the replica keeps per write and per key: a write in flight (`inflight`), and per
/// key (`keyStates`) its writes in flight and its newest committed change.
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

    /// What the replica knows of one key beyond storage: its writes in flight, and its newest
    /// committed change. One table for both (cut 15): a forwarded write looks its key up once on
    /// arrival and once at commit, where two tables took four lookups and an insertion and a
    /// removal in one of them per write. An entry with neither part is removed.
    struct KeyState: Sendable {
        /// Set while writes of the key are in flight.
        var pending: PendingKey?
        /// The key's newest committed change, kept within the value cache's bounds (`valueOrder`).
        var cached: HistoryValue?

        var isEmpty: Bool { pending == nil && cached == nil }

        /// A write of the key was taken in flight. `committed`: the key's committed value, needed
        /// only when no write of it was in flight before.
        mutating func addWrite(after: VersionedValue?, committed: VersionedValue?) {
            if pending == nil {
                pending = PendingKey(committed: committed, latest: after, count: 1)
            } else {
                pending!.latest = after
                pending!.count += 1
            }
        }

        /// The oldest write of the key in flight committed, leaving the key at `after`.
        mutating func commitWrite(after: VersionedValue?) {
            guard let count = pending?.count else { return }
            if count == 1 {
                pending = nil
            } else {
                pending!.count -= 1
                pending!.committed = after
            }
        }
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

    /// The newest committed change of a key (`KeyState.cached`).
    struct HistoryValue: Sendable {
        /// The update's seq: the version it gave the key.
        var seq: UInt64
        /// The key's value after it (nil: deleted).
        var value: [UInt8]?

        var versioned: VersionedValue? { value.map { VersionedValue($0, version: seq) } }
    }
}

/// A key with its committed value, as a range read returns it.
public struct RangeRow: Equatable, Sendable {
    public var key: String
    public var value: VersionedValue

    public init(key: String, value: VersionedValue) {
        self.key = key
        self.value = value
    }
}

/// One page of a range read: committed rows in byte order, and the rest of the range (nil: the
/// range is done).
public struct RangePage: Equatable, Sendable {
    public var rows: [RangeRow]
    public var next: KeyRange?

    public init(rows: [RangeRow], next: KeyRange?) {
        self.rows = rows
        self.next = next
    }
}

/// The answer to a range read: a page, or why the core refused it (`notHead`, `noLease`).
public enum RangeReply: Equatable, Sendable {
    case page(RangePage)
    case error(ChainError)
}

/// Range reads at the head: one page of committed state at one point in sequence order (`stable`).
extension Replica {
    /// The page of `range` that `stored` starts, as committed state: local storage may hold
    /// writes in flight, so a key with writes in flight reads as its committed value (dropped
    /// when that is "absent"), and a key whose committed value storage no longer holds (a delete
    /// in flight) is added back. Every other key is stored exactly as committed, so the page is
    /// the committed state at `stable`, the point this event is handled at.
    ///
    /// - Parameters:
    ///   - stored: the store's first rows of `range` in byte order, read in this same event.
    ///   - storedComplete: `stored` holds every stored row of the range; otherwise it holds at
    ///     least one row and the page covers the range only up to its last key.
    ///   - owns: whether a key belongs to this chain (a sharded server may hold rows of slots it
    ///     gave away or is being given, not yet purged).
    ///   - limit, byteLimit: bounds of the page (at least one row is returned if any is left).
    public func readRange(_ range: KeyRange, stored: [RangeRow], storedComplete: Bool, owns: (String) -> Bool,
                          limit: Int, byteLimit: Int, now: UInt64) -> RangeReply {
        precondition(limit > 0 && byteLimit > 0, "range page bounds must be positive")
        precondition(storedComplete || !stored.isEmpty, "an incomplete store page holds at least one row")
        guard role.isHead else { return .error(.notHead(head: view.head)) }
        guard now < leaseUntil else { return .error(.noLease) }
        // The part of the range this page speaks for: all of it, or up to the last stored key.
        let coveredEnd: String? = storedComplete ? nil : stored.last!.key
        func covered(_ key: String) -> Bool {
            guard range.contains(key) else { return false }
            guard let coveredEnd else { return true }
            return !KeyRange.less(coveredEnd, key)
        }
        var rows: [RangeRow] = []
        var seen = Set<ByteKey>()
        for row in stored where owns(row.key) {
            let key = ByteKey(row.key)
            seen.insert(key)
            if let pending = keyStates[key]?.pending {
                if let committed = pending.committed { rows.append(RangeRow(key: row.key, value: committed)) }
            } else {
                rows.append(row)
            }
        }
        // Keys with writes in flight that storage did not list (a key that did not exist when
        // committed is not listed either way): found through the in-flight writes, at most
        // `inflightMax`, rather than through every key state (up to `recentMax` cached ones).
        inflight.forEach { entry in
            guard covered(entry.update.key), seen.insert(entry.key).inserted, owns(entry.update.key) else { return }
            if let committed = keyStates[entry.key]?.pending?.committed {
                rows.append(RangeRow(key: entry.update.key, value: committed))
            }
        }
        rows.sort { KeyRange.less($0.key, $1.key) }
        var bytes = 0
        for (i, row) in rows.enumerated() {
            bytes += row.key.utf8.count + row.value.value.count
            if i + 1 < rows.count, i + 1 == limit || bytes >= byteLimit {
                rows.removeSubrange((i + 1)...)
                return .page(RangePage(rows: rows, next: range.resuming(after: row.key)))
            }
        }
        return .page(RangePage(rows: rows, next: coveredEnd.map { range.resuming(after: $0) }))
    }
}

/// One committed change of a key: its new value (nil: deleted) and the version it made. Or, with
/// `barrier` set, no change of a key but a slot move's barrier in the chain's history at
/// `version` (`key` empty, `value` nil): the watcher orders the chain's later changes after the
/// donor's (`MoveBarrier`).
public struct Change: Equatable, Sendable {
    public var key: String
    public var value: [UInt8]?
    public var version: UInt64
    public var barrier: MoveBarrier?

    public init(key: String, value: [UInt8]?, version: UInt64) {
        self.key = key
        self.value = value
        self.version = version
        self.barrier = nil
    }

    /// A slot move's barrier at `version`.
    public init(barrier: MoveBarrier, version: UInt64) {
        self.key = ""
        self.value = nil
        self.version = version
        self.barrier = barrier
    }
}

/// What a replica can tell a watcher from its history of committed updates.
public enum ChangeRead: Equatable, Sendable {
    /// The matching changes with sequence numbers in (after, through], oldest first (versions
    /// are sequence numbers here): every committed update up to `through` was looked at. A
    /// watcher resumes after `through`.
    case changes([Change], through: UInt64)
    /// The history no longer holds the update after `after`: the oldest sequence number it can
    /// still deliver changes from is `oldest` (resume after `oldest - 1`, having missed some).
    case compacted(oldest: UInt64)
}

/// Watches: a replica's `recent` updates (kept for catching up a successor, committed, in
/// sequence order, bounded by `CoreLimits.recentMax` and `recentBytesMax`, more while pinned for
/// a joiner: `recentPinnedMax`, `recentPinnedBytesMax`) are also the history
/// a watcher reads. No extra copy is kept, and a watcher holds nothing on the server between
/// reads: it asks again after the last sequence number it was told about.
extension Replica {
    /// Committed changes after `after` whose key `matches`, at most `limit` changes and about
    /// `byteLimit` bytes (at least one change if any is left). Updates that change nothing (a
    /// failed condition) and a slot move's copies and purge deletes (`MoveMark`: not a user's
    /// change) are skipped but still counted as looked at, so `through` passes them. A move's
    /// barrier is returned to every watcher, whatever its keys (`Change(barrier:version:)`;
    /// it counts as a change for `limit`). `after` nil: from now.
    public func committedChanges(after: UInt64?, matching: (String) -> Bool, limit: Int, byteLimit: Int) -> ChangeRead {
        precondition(limit > 0 && byteLimit > 0, "change page bounds must be positive")
        let after = after ?? stable
        // Nothing committed after it yet: the watcher waits (a new head may still be learning
        // how far the chain has committed, so `after` may be ahead of this replica's `stable`).
        guard after < stable else { return .changes([], through: after) }
        // The history covers (first - 1, stable]; a replica that restarted or took a snapshot has
        // none before its start.
        let first = recentFirstSeq ?? stable + 1
        guard after + 1 >= first else { return .compacted(oldest: first) }
        var changes: [Change] = []
        var bytes = 0
        var through = after
        // `recent` holds consecutive sequence numbers, so the update after `after` is at a known offset.
        var offset = Int(after + 1 - first)
        while offset < recent.count {
            let update = recent[offset: offset]
            assert(update.seq == first + UInt64(offset), "recent holds consecutive sequence numbers")
            if let barrier = update.barrier {
                if changes.count == limit || (bytes >= byteLimit && !changes.isEmpty) { break }
                changes.append(Change(barrier: barrier, version: update.seq))
                bytes += barrier.size
            } else if update.isUserChange && matching(update.key) {
                if changes.count == limit || (bytes >= byteLimit && !changes.isEmpty) { break }
                changes.append(Change(key: update.key, value: update.value, version: update.seq))
                bytes += update.key.utf8.count + (update.value?.count ?? 0)
            }
            through = update.seq
            offset += 1
        }
        return .changes(changes, through: through)
    }

    /// The newest slot move barriers committed here, at most `max`, oldest first (versions are
    /// sequence numbers), also those the history no longer holds (`barrierLog`). A watch that
    /// starts "now" learns of a move just before its point, and one that resumes from a cursor
    /// moved past a compaction of a move it skipped (`ChainKVClient.watch`, `WatchOrder`).
    public func recentBarriers(max: Int) -> [Change] {
        Array(barrierLog.suffix(max))
    }
}

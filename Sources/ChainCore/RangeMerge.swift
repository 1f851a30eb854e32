/// Merging the pages of one range read answered by several chains (each holds the keys of its
/// slots, so every key is in exactly one chain's pages).
extension RangePage {
    /// One page of `range` from `pages`, one per chain, each read at its own chain's point: the
    /// rows below the smallest point where a chain's page stopped (every chain has reported
    /// every key below it), in byte order, at most `limit`, and the rest of the range.
    public static func merge(_ pages: [RangePage], range: KeyRange, limit: Int) -> RangePage {
        precondition(limit > 0, "a page holds at least one row")
        // Where the least advanced chain resumes: keys below it are complete in every page.
        let frontier: [UInt8]? = pages.compactMap { $0.next?.lower }.min { KeyRange.less($0, $1) }
        var rows = pages.flatMap(\.rows)
        if let frontier { rows.removeAll { !KeyRange.less(Array($0.key.utf8), frontier) } }
        rows.sort { KeyRange.less($0.key, $1.key) }
        if rows.count > limit {
            rows.removeSubrange(limit...)
            return RangePage(rows: rows, next: range.resuming(after: rows[limit - 1].key))
        }
        return RangePage(rows: rows, next: frontier.map { KeyRange(lower: $0, upper: range.upper) })
    }

    /// The key after which the rest of the range starts, when it starts just after a key (as
    /// every `next` a server or `merge` makes does): the continuation a user passes back.
    public var resumeAfter: String? {
        guard let lower = next?.lower, lower.last == 0 else { return nil }
        return String(validating: lower.dropLast(), as: UTF8.self)
    }
}

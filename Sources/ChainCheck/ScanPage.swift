/// One page of a range or prefix scan as a client recorded it, and what it proves about the keys
/// of a workload.
///
/// A page answers for the keys it covers: those of its range after `after`, and (when `next` is
/// not nil) only up to and including `next`. That is what the store promises: a chain's page
/// (`Replica.readRange`) ends its `next` just after the last row it returned when it stopped at
/// its limit, else just after the last stored key it read, and it spoke for every key up to that
/// one; a sharded page (`RangePage.merge`) keeps only rows below the least advanced chain's
/// `next` (every chain spoke for those keys) and, when it cuts at its limit, ends after the last
/// row kept. The client hands out that key as `next`. So every covered key was either returned
/// or absent at the page's point, and a key beyond `next` says nothing.
///
/// Keys are ordered by their UTF-8 bytes (SQLite's BINARY collation, `KeyRange.less`), which is
/// not always Swift's `String` order.
public struct ScanPage: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var key: String
        public var value: [UInt8]
        public var version: UInt64

        public init(key: String, value: [UInt8], version: UInt64) {
            self.key = key
            self.value = value
            self.version = version
        }
    }

    /// Unique among the pages of a history: what `Operation.page` refers to.
    public var number: Int
    public var client: Int
    /// The scanned range: keys from `lower` (inclusive) to `upper` (exclusive; nil: no end). Bytes,
    /// because a prefix's end (its last byte raised by one) need not be UTF-8.
    public var lower: [UInt8]
    public var upper: [UInt8]?
    /// The continuation the page was asked for: keys up to and including it are not in it.
    public var after: String?
    public var limit: Int
    public var entries: [Entry]
    /// The continuation the page returned; nil: the range is done.
    public var next: String?
    public var invoke: UInt64
    public var complete: UInt64

    public init(number: Int, client: Int, lower: [UInt8], upper: [UInt8]?, after: String?, limit: Int,
                entries: [Entry], next: String?, invoke: UInt64, complete: UInt64) {
        precondition(complete >= invoke, "a page completes after it is invoked")
        self.number = number
        self.client = client
        self.lower = lower
        self.upper = upper
        self.after = after
        self.limit = limit
        self.entries = entries
        self.next = next
        self.invoke = invoke
        self.complete = complete
    }

    /// Whether the page speaks for `key`: in the range, after `after`, and not beyond `next`.
    public func covers(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        if Self.less(bytes, lower) { return false }
        if let upper, !Self.less(bytes, upper) { return false }
        if let after, !Self.less(Array(after.utf8), bytes) { return false }
        if let next, Self.less(Array(next.utf8), bytes) { return false }
        return true
    }

    /// What the page observed, as reads in its interval that carry its number: each returned
    /// entry's value, and absence for every key of `keys` it covers but did not return.
    public func observations(keys: [String]) -> [Operation] {
        let returned = Set(entries.map(\.key))
        var reads = entries.map { entry in
            Operation(id: 0, client: client, key: entry.key, kind: .get(value: entry.value), invoke: invoke,
                      complete: complete, page: number)
        }
        for key in Set(keys) where covers(key) && !returned.contains(key) {
            reads.append(Operation(id: 0, client: client, key: key, kind: .get(value: nil), invoke: invoke,
                                   complete: complete, page: number))
        }
        return reads
    }

    /// What is wrong with the page on its own, whatever else happened: entries out of byte order
    /// or repeated, entries it does not cover, more entries than asked for, no progress.
    public var defects: [String] {
        var found: [String] = []
        for (a, b) in zip(entries, entries.dropFirst()) where !Self.less(Array(a.key.utf8), Array(b.key.utf8)) {
            found.append("entry \(JSONLine.quote(b.key)) follows \(JSONLine.quote(a.key)) (not in byte order, or repeated)")
        }
        for entry in entries where !covers(entry.key) {
            found.append("entry \(JSONLine.quote(entry.key)) is outside the range, at or before `after`, or beyond `next`")
        }
        if entries.count > limit { found.append("\(entries.count) entries for a limit of \(limit)") }
        if let next, let after, !Self.less(Array(after.utf8), Array(next.utf8)) {
            found.append("next \(JSONLine.quote(next)) does not advance past after \(JSONLine.quote(after))")
        }
        return found
    }

    static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.lexicographicallyPrecedes(b)
    }
}

extension ScanPage: CustomStringConvertible {
    /// One line, for a run's scans file: where to look when a scan read fails the check.
    public var description: String {
        let range = "[" + Hex.encode(lower) + ", " + (upper.map { Hex.encode($0) } ?? "end") + ")"
        let shown = entries.map { "\(JSONLine.quote($0.key))=\(ValueText.describe($0.value))@\($0.version)" }
        return "page \(number) client \(client) \(invoke)...\(complete) range \(range) after \(after.map(JSONLine.quote) ?? "-")"
            + " limit \(limit): " + (shown.isEmpty ? "(none)" : shown.joined(separator: " "))
            + " next \(next.map(JSONLine.quote) ?? "-")"
    }
}

/// A range of keys in byte order: keys compared by their UTF-8 bytes as unsigned numbers, which is
/// the order of SQLite's BINARY collation that the store's key index keeps (and not always
/// Swift's `String` order). Bounds are bytes, not keys: a continuation starts just after a key
/// (the key and a NUL byte, which no key holds), and the end of a prefix is the prefix with its
/// last byte raised by one, which need not be UTF-8.
public struct KeyRange: Equatable, Hashable, Sendable {
    /// The smallest key in the range, inclusive ([]: from the first key).
    public let lower: [UInt8]
    /// Exclusive upper bound; nil: to the last key.
    public let upper: [UInt8]?

    /// A bound is at most one byte longer than a key (`resuming(after:)` adds one).
    public static func boundSizeMax(keySizeMax: Int) -> Int { keySizeMax + 1 }

    public init(lower: [UInt8], upper: [UInt8]?) {
        self.lower = lower
        self.upper = upper
    }

    /// Keys from `from` (inclusive; nil: the first key) to `to` (exclusive; nil: the last key).
    public init(from: String? = nil, to: String? = nil) {
        self.init(lower: from.map { Array($0.utf8) } ?? [], upper: to.map { Array($0.utf8) })
    }

    /// Keys that start with `prefix` (every key for "").
    public init(prefix: String) {
        self.init(lower: Array(prefix.utf8), upper: Self.successor(ofPrefix: Array(prefix.utf8)))
    }

    /// The same range without the keys up to and including `key`: where the next page starts.
    public func resuming(after key: String) -> KeyRange {
        let next = Array(key.utf8) + [0]
        return KeyRange(lower: Self.less(lower, next) ? next : lower, upper: upper)
    }

    /// Whether `key` is in the range.
    public func contains(_ key: String) -> Bool {
        contains(bytes: Array(key.utf8))
    }

    public func contains(bytes key: [UInt8]) -> Bool {
        !Self.less(key, lower) && (upper.map { Self.less(key, $0) } ?? true)
    }

    /// True when no key can be in the range.
    public var isEmpty: Bool {
        guard let upper else { return false }
        return !Self.less(lower, upper)
    }

    /// Byte order, as SQLite's BINARY collation (memcmp, then the shorter first).
    public static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.lexicographicallyPrecedes(b)
    }

    /// Byte order of two keys.
    public static func less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// The first byte string after every string that starts with `prefix`: the prefix without
    /// its trailing 0xFF bytes, its last byte raised by one; nil when no such string exists
    /// (an empty prefix, or one of 0xFF bytes only).
    static func successor(ofPrefix prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A key compared and hashed by its UTF-8 bytes.
///
/// Swift's `String` equality is canonical equivalence ("e\u{301}" == "\u{E9}"), but the wire,
/// the store and SQLite tell those two keys apart. Keyed by `String`, a dictionary of the core's
/// keys would merge them: a read of one would see the other's write in flight (review of the
/// scans change found it). Every collection of user keys in the core is keyed by `ByteKey`.
public struct ByteKey: Hashable, Sendable {
    public let key: String

    public init(_ key: String) { self.key = key }

    /// One memcmp over the strings' contiguous UTF-8 (every native Swift string has it); the
    /// UTF-8 view's element-by-element `elementsEqual` was 2 % of a replica's CPU in the write
    /// profile (dictionary lookups of in-flight keys).
    public static func == (a: ByteKey, b: ByteKey) -> Bool {
        let x = a.key.utf8, y = b.key.utf8
        guard x.count == y.count else { return false }
        let fast = x.withContiguousStorageIfAvailable { p in
            y.withContiguousStorageIfAvailable { q in
                p.isEmpty || memcmp(p.baseAddress!, q.baseAddress!, p.count) == 0
            }
        }
        return (fast ?? nil) ?? x.elementsEqual(y)
    }

    public func hash(into hasher: inout Hasher) {
        var key = self.key
        key.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

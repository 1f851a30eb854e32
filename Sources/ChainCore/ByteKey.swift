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
    /// The key's bytes hashed once, with Swift's per-process seeded hasher (so no client can
    /// choose colliding keys): a dictionary lookup then hashes this one word, and a comparison
    /// of two different keys almost always stops at it. Hashing a 128 B key's bytes on every
    /// lookup (about ten per write per replica) was 12 % of a replica's event loop in the write
    /// profile (issue 18, cut 4). Build a `ByteKey` once per key per event and pass it along.
    private let digest: Int

    public init(_ key: String) {
        var key = key  // `withUTF8` is mutating: it makes a (rare) non-contiguous string contiguous
        var hasher = Hasher()
        key.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        self.digest = hasher.finalize()
        self.key = key
    }

    /// The digests first, then one memcmp over the strings' contiguous UTF-8 (every native Swift
    /// string has it); the UTF-8 view's element-by-element `elementsEqual` was 2 % of a
    /// replica's CPU in the write profile (dictionary lookups of in-flight keys).
    ///
    /// Inlined, with the bytes compared out of line: a dictionary probe then compares the digest
    /// in place and copies the stored key (an atomic retain and release of its string, often a
    /// cache miss) only when the digests match. Called out of line as a whole, every probe copied
    /// the key it passed: `swift_retain` was 11 % of a middle server's event loop under 8 × 32
    /// writes, half of it in these lookups (README, "cut 35").
    @inline(__always)
    public static func == (a: ByteKey, b: ByteKey) -> Bool {
        a.digest == b.digest && sameBytes(a.key, b.key)
    }

    /// Whether two keys' UTF-8 is the same (`==` after their digests matched).
    @inline(never)
    private static func sameBytes(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        let fast = x.withContiguousStorageIfAvailable { p in
            y.withContiguousStorageIfAvailable { q in
                p.isEmpty || memcmp(p.baseAddress!, q.baseAddress!, p.count) == 0
            }
        }
        return (fast ?? nil) ?? x.elementsEqual(y)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(digest)
    }
}

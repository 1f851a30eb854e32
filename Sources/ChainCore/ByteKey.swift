/// A key compared and hashed by its UTF-8 bytes.
///
/// Swift's `String` equality is canonical equivalence ("e\u{301}" == "\u{E9}"), but the wire,
/// the store and SQLite tell those two keys apart. Keyed by `String`, a dictionary of the core's
/// keys would merge them: a read of one would see the other's write in flight (review of the
/// scans change found it). Every collection of user keys in the core is keyed by `ByteKey`.
public struct ByteKey: Hashable, Sendable {
    public let key: String

    public init(_ key: String) { self.key = key }

    public static func == (a: ByteKey, b: ByteKey) -> Bool {
        a.key.utf8.elementsEqual(b.key.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        var key = self.key
        key.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

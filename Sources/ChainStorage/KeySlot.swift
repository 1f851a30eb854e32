import ChainCore

/// The rowid a key is stored under in the `kv` table: a 64-bit FNV-1a hash of the key's UTF-8
/// bytes, cut to 62 bits so it is a positive SQLite INTEGER.
///
/// Why a hash and not the key itself: a lookup by rowid walks one B-tree whose inner pages hold
/// only integers (hundreds of children each, a few MB of inner pages at 1,000,000 rows, so they
/// stay in the page cache) and reads one leaf. Keyed by the text, the same get walked a second
/// tree (the key index) and read two leaves from outside the cache.
///
/// The function is part of the file format: every replica and every release must compute the
/// same slot for a key, so it never changes. It is not keyed: colliding keys (rare by chance,
/// or crafted) go to `kv_spill`, an ordinary table keyed by the text, so a collision costs a
/// second lookup, never a wrong answer or a long probe.
public enum KeySlot {
    public static func of(_ key: String) -> Int64 {
        Int64(bitPattern: FNV1a.hash(key) & slotMask)
    }

    /// 62 bits: positive, with room below Int64.max.
    static let slotMask: UInt64 = (1 << 62) - 1
}

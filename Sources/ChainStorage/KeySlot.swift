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
        // Over the contiguous UTF-8 (every native string has it): the UTF-8 view's iterator
        // decodes index by index, 1.4 % of a replica's CPU in the write profile (cut 13).
        let hash = key.utf8.withContiguousStorageIfAvailable(fnv1a) ?? fnv1a(key.utf8)
        return Int64(bitPattern: hash & slotMask)
    }

    private static func fnv1a<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// 62 bits: positive, with room below Int64.max.
    static let slotMask: UInt64 = (1 << 62) - 1
}

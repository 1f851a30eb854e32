/// 64-bit FNV-1a of a key's UTF-8 bytes: the hash behind the slot map's slots (`SlotMap.slot`)
/// and the store's row ids (`KeySlot`). Both are part of the cluster's formats (every client,
/// server and release must compute the same slot for a key), so it never changes.
public enum FNV1a {
    public static func hash(_ key: String) -> UInt64 {
        // Over the contiguous UTF-8 (every native string has it): the UTF-8 view's iterator
        // decodes index by index and cost 1.4 % of a replica's CPU per write, and 2 % of the bench
        // client's per read, in their profiles (cut 13).
        key.utf8.withContiguousStorageIfAvailable(hash) ?? hash(key.utf8)
    }

    private static func hash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}

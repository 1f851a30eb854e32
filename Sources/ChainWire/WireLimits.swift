/// Hard limits of the protocol. A decoder checks every length against these before it allocates,
/// so a hostile or broken peer cannot make a server reserve memory it did not mean to.
public enum WireLimits {
    /// Keys are NUL-free UTF-8 strings of at most 1 KiB (the C ABI passes them NUL-terminated).
    public static let keySizeMax = 1024
    /// Values are bytes of at most 1 MiB.
    public static let valueSizeMax = 1 << 20
    /// A frame holds one message. The largest is a put or forward of a maximal key and value, or a
    /// transfer chunk (bounded by `transferChunkBytesMax` plus one maximal row); 2 MiB covers both.
    public static let frameSizeMax = 2 << 20
    /// Bytes of rows per state-transfer chunk before the sender starts a new chunk.
    public static let transferChunkBytesMax = 512 << 10
    /// Rows per state-transfer chunk.
    public static let transferChunkRowsMax = 4096
    /// Rows of one scan page.
    public static let scanRowsMax = 10_000
    /// Bytes of keys and values after which a scan page ends (at least one row is sent). With
    /// one maximal row past it and the rows' framing, a page stays under `frameSizeMax`.
    public static let scanPageBytesMax = 512 << 10
    /// Longest a watch request may wait for a change before it is answered without one.
    public static let watchWaitMsMax: UInt32 = 30_000
    /// A range bound is at most one byte longer than a key (`KeyRange.resuming(after:)`).
    public static let rangeBoundSizeMax = keySizeMax + 1
    /// Node ids, hosts and error messages are short; anything longer is malformed.
    public static let nodeIDSizeMax = 64
    public static let hostSizeMax = 255
    public static let errorMessageSizeMax = 1024
    /// Chain length bound: a chain is a handful of servers; 64 leaves room without trusting input.
    public static let membersMax = 64
    /// Chains of a sharded cluster (the leader forms at most `ClusterLeader.chainsMax`), and the
    /// length of a chain id ("c0", "c17", ...).
    public static let chainsMax = 256
    public static let chainIDSizeMax = 32
    /// Nonces and proofs of the authentication exchange: 32 bytes, the size of an HMAC-SHA256
    /// (a random 256-bit nonce cannot repeat in practice, so a recorded proof is never reusable).
    public static let authFieldSize = 32
    /// The one protocol version this build speaks.
    public static let version: UInt8 = 1
    /// version + type + request id.
    public static let headerSize = 1 + 1 + 8
}

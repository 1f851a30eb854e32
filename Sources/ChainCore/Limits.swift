/// Protocol limits of the core. Everything that grows with load is bounded so that a burst of
/// clients cannot exhaust a server's memory.
public enum CoreLimits {
    /// Writes a node holds but has not seen committed. The head refuses new writes past this, which
    /// bounds memory at about `inflightMax × (keySizeMax + valueSizeMax)` in the worst case.
    public static let inflightMax = 4096
    /// Committed updates kept in memory so that a successor that is behind (a new successor after
    /// a failure, or a server that just received a snapshot) can catch up without a new snapshot.
    /// Bounded by count and bytes; a successor further behind than this needs a state transfer.
    ///
    /// Only a successor behind the committed point reads it: a node spliced in after a state
    /// transfer (everything committed since its snapshot), not the new successor after a middle
    /// failure (it already holds everything committed, since commits pass through it). 32 MiB of
    /// 1 KiB values is about 28,000 updates: over 8 s of writes at the highest rate measured,
    /// minutes at ordinary rates. It was 64 MiB; that bought a few more seconds of full-rate
    /// writes during a transfer, at the cost of 32 MiB more resident memory on every server.
    public static let recentMax = 65536
    public static let recentBytesMax = 32 << 20
    /// Client requests are remembered for recognizing retries while their write is among the last
    /// this many sequence numbers (storage keeps their outcomes as long). A retry arrives within
    /// seconds; 65536 writes cover that at any throughput this server reaches.
    public static let requestsRememberedMax = 65536
    /// Bytes of replaced values the history keeps beside its updates (`Replica.recentEntries`),
    /// for answering a retried put with its old value from memory. Most are the buffer of the
    /// key's previous update, itself in the history (no extra memory while it stays there); the
    /// bound holds when none is (old values read from storage, or rewritten keys whose previous
    /// update left the history). Past it the oldest replaced values are dropped (those retries
    /// are answered from disk); the history's length is not affected.
    public static let recentReplacedBytesMax = 32 << 20
    /// Largest old value stored with a request's outcome on disk. Every replica writes each
    /// put's outcome in the write's transaction so that retries are recognized after restarts,
    /// and keeps the outcomes of the last `requestsRememberedMax` writes. With the old value
    /// kept whatever its size, 1 KiB values made the outcome table 80 MB (beyond the page
    /// cache) and every write paid for an old value's bytes twice: its insert, and its prune
    /// 65,536 writes later (a read of a cold page): 24 µs of the 99 µs of server CPU per write
    /// of a 3-server chain (scripts/bench-ab, 8 × 32 writes in flight, 2026-12-05). A retry whose
    /// write the history still holds gets its old value from memory whatever its size
    /// (`Replica.historyReply`); only a retry answered from disk (after a restart or a
    /// snapshot, or more than the history's window later) gets `oldValueNotKept` for a put
    /// whose old value was over this size: the put was applied once, its old value is unknown.
    public static let outcomeValueKeptMax = 128
}

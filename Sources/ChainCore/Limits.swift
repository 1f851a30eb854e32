/// Protocol limits of the core. Everything that grows with load is bounded so that a burst of
/// clients cannot exhaust a server's memory.
public enum CoreLimits {
    /// Writes a node holds but has not seen committed. The head refuses new writes past this, which
    /// bounds memory at about `inflightMax × (keySizeMax + valueSizeMax)` in the worst case.
    public static let inflightMax = 4096
    /// Committed updates kept in memory so that a successor that is behind (a new successor after
    /// a failure, or a server that just received a snapshot) can catch up without a new snapshot,
    /// and for watches and retried writes. Bounded by count and bytes; a successor further behind
    /// than this needs a state transfer, a watcher further behind is told its cursor was compacted.
    ///
    /// Only a successor behind the committed point reads it: a node spliced in after a state
    /// transfer (everything committed since its snapshot), not the new successor after a middle
    /// failure (it already holds everything committed, since commits pass through it). While a
    /// snapshot is being sent the sender keeps everything after the snapshot point up to the
    /// pinned bounds below (`Replica.pinHistory`), so the joiner catches up as long as those hold
    /// what was written during its transfer (which the leader gives up on after 120 s). Outside a
    /// transfer 8 MiB is enough: about 7,000 updates of 1 KiB, or 65,536 small ones. It was 32 MiB
    /// (64 before that), which with the values a replica reads (`valueCacheBytesMax`, then bound
    /// to the history) made 100-109 MiB of resident memory per server under writes; 74-80 MiB
    /// with 8 (`scripts/bench-ab`, 2026-12-05, README "Round 3, cut 10"). A first try at 8 MiB
    /// was reverted when the torture runner's growth seed caught a watcher, resumed past a
    /// compaction, with a change out of order across a slot move; fixed since: the barriers
    /// outlive the history (`barriersKeptMax`, `WatchOrder.resumed`).
    public static let recentMax = 65536
    public static let recentBytesMax = 8 << 20
    /// Slot move barriers a replica keeps beyond its history (`Replica.barrierLog`): a watcher
    /// whose cursor was compacted and moved on may have skipped one, and must still hand on the
    /// donor's changes of the moved slots first. Moves run one at a time, a few per server added
    /// or removed; 64 cover the moves of several growth steps, about 64 × 40 bytes.
    public static let barriersKeptMax = 64
    /// The history's bounds for the updates after a pinned point (a snapshot being sent): 64 MiB of
    /// 1 KiB values is about 56,000 updates, a minute of writes at 1,000/s while a large database
    /// is copied. Past them the joiner needs a new transfer, as without a pin. The bytes count
    /// keys and values (`Update.size`); each update also costs its slots in the rings, about
    /// 150 bytes, so 131,072 small updates are another ~20 MB. The rings give that back when the
    /// pin goes (`Ring.shrink`).
    public static let recentPinnedMax = 131_072
    public static let recentPinnedBytesMax = 64 << 20
    /// Bytes of the newest committed values a replica keeps per key (`Replica.keyStates`), so
    /// that a forwarded write of a recently written key needs no storage read for the value it
    /// replaces; it also keeps at most `recentMax` keys. Counted for
    /// every value kept (most are shared with the history's updates). 16 MiB holds the working set
    /// of the benchmarks (4,000 keys of 1 KiB, about 5 MB) with room. It has its own bounds because
    /// tied to a short history it missed: with 4 MiB of history, two fifths of the forwarded writes
    /// of that working set read SQLite and server CPU per write rose 20 % (8 x 32 writes: 65 against
    /// 54 µs; with 8 MiB of history 1.06x; `scripts/bench-ab`, 2026-12-05).
    public static let valueCacheBytesMax = 16 << 20
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
    public static let recentReplacedBytesMax = 8 << 20
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

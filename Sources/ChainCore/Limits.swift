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
    /// Largest old value stored with a request's outcome. Every replica writes each put's outcome
    /// to disk so that retries are recognized after restarts; keeping large old values would
    /// double the bytes written for little gain (a retry after a restart is rare), and bounds
    /// the outcome table at requestsRememberedMax × 4 KiB.
    public static let outcomeValueKeptMax = 4096
}

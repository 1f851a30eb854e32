/// Protocol limits of the core. Everything that grows with load is bounded so that a burst of
/// clients cannot exhaust a server's memory.
public enum CoreLimits {
    /// Writes a node holds but has not seen committed. The head refuses new writes past this, which
    /// bounds memory at about `inflightMax × (keySizeMax + valueSizeMax)` in the worst case.
    public static let inflightMax = 4096
    /// Committed updates kept in memory so that a successor that is behind (a new successor after
    /// a failure, or a server that just received a snapshot) can catch up without a new snapshot.
    /// Bounded by count and bytes; a successor further behind than this needs a state transfer.
    public static let recentMax = 65536
    public static let recentBytesMax = 64 << 20
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

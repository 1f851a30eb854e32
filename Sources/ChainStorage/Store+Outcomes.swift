import ChainCore

/// The `outcome_batches` table: the replies of recent client writes, kept to recognize retries.
extension Store {
    /// Outcomes are kept for writes within this many sequence numbers of `last_seq`: the window
    /// in which a retry is recognized (equal to the core's `CoreLimits.requestsRememberedMax`,
    /// which the server checks at start).
    public static let outcomesKeptMax: UInt64 = 65536

    /// Stored outcomes with seq > `afterSeq` within the kept window (the last `outcomesKeptMax`
    /// sequence numbers before `last_seq`), oldest first: at most `limit` of them, stopping once
    /// their summed sizes reach `byteLimit` (at least one if any remain). Pruning removes whole
    /// rows, so a row may still hold a few outcomes below the window: they are not returned.
    public func outcomes(afterSeq: UInt64, limit: Int, byteLimit: Int = .max) throws -> [WriteOutcome] {
        precondition(limit > 0 && byteLimit > 0, "outcome page limits must be positive")
        let s = try live()
        let lastSeq = try readMeta(s, .lastSeq)
        let after = max(afterSeq, lastSeq > Self.outcomesKeptMax ? lastSeq - Self.outcomesKeptMax : 0)
        let statement = s[.scanOutcomes]
        defer { statement.reset() }
        try statement.bind(1, int64: Int64(bitPattern: min(after, UInt64(Int64.max))))
        var page: [WriteOutcome] = []
        var bytes = 0
        while try statement.step() {
            for outcome in try OutcomeBatch.decode(statement.blob(0)) where outcome.seq > (page.last?.seq ?? after) {
                page.append(outcome)
                bytes += outcome.size
                if page.count == limit || bytes >= byteLimit { return page }
            }
        }
        return page
    }

    /// The request of every kept outcome and its write's seq, oldest first: what a replica's core
    /// remembers at start to recognize retries.
    public func requests() throws -> [(RequestID, seq: UInt64)] {
        var result: [(RequestID, seq: UInt64)] = []
        var after: UInt64 = 0
        while true {
            let page = try outcomes(afterSeq: after, limit: 4096)
            guard let last = page.last else { return result }
            result.append(contentsOf: page.map { ($0.request, $0.seq) })
            after = last.seq
        }
    }

    /// The outcome stored with update `seq`, if it is kept.
    public func outcome(seq: UInt64) throws -> WriteOutcome? {
        guard seq <= UInt64(Int64.max), seq > 0 else { return nil }
        return try outcomes(afterSeq: seq - 1, limit: 1).first { $0.seq == seq }
    }

    /// Writes outcomes received in a snapshot, in one transaction, one row each (keyed by its
    /// seq, so a chunk sent again rewrites the same rows). A snapshot is loaded after `reset`,
    /// so these lie at or below `last_seq` and below every batch `apply` writes later.
    public func loadOutcomes(_ outcomes: [WriteOutcome]) throws {
        guard !outcomes.isEmpty else { return }
        let s = try live()
        try inTransaction(s) {
            for outcome in outcomes { try insertOutcome(s, outcome) }
        }
    }

    /// Stores `outcome` as a row of its own (`loadOutcomes`, `migrateOutcomes`).
    func insertOutcome(_ s: Statements, _ outcome: WriteOutcome) throws {
        var body: [UInt8] = []
        OutcomeBatch.append(outcome, to: &body)
        try insertOutcomes(s, body, lastSeq: outcome.seq)
    }

    /// Stores one `outcome_batches` row inside the caller's transaction (`apply`, `loadOutcomes`):
    /// `body` encodes outcomes in seq order, the last of them `lastSeq`.
    func insertOutcomes(_ s: Statements, _ body: [UInt8], lastSeq: UInt64) throws {
        precondition(lastSeq <= UInt64(Int64.max), "seq \(lastSeq) does not fit SQLite's INTEGER")
        let statement = s[.insertOutcomes]
        defer { statement.reset() }
        try statement.bind(1, int64: Int64(lastSeq))
        try statement.bind(2, blob: body)
        try statement.run()
    }
}

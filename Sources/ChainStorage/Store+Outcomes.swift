import ChainCore

/// The `outcomes` table: the replies of recent client writes, kept to recognize retries.
extension Store {
    /// Outcomes are kept for writes within this many sequence numbers of `last_seq`: the window
    /// in which a retry is recognized (equal to the core's `CoreLimits.requestsRememberedMax`,
    /// which the server checks at start).
    public static let outcomesKeptMax: UInt64 = 65536

    /// Stored outcomes with seq > `afterSeq`, oldest first: at most `limit` of them, stopping
    /// once their summed sizes reach `byteLimit` (at least one if any remain).
    public func outcomes(afterSeq: UInt64, limit: Int, byteLimit: Int = .max) throws -> [WriteOutcome] {
        precondition(limit > 0 && byteLimit > 0, "outcome page limits must be positive")
        let statement = try live()[.scanOutcomes]
        defer { statement.reset() }
        try statement.bind(1, int64: Int64(bitPattern: afterSeq))
        try statement.bind(2, int64: Int64(limit))
        var page: [WriteOutcome] = []
        var bytes = 0
        while try statement.step() {
            let raw = statement.int64(3)
            guard let kind = WriteOutcome.Kind(rawValue: UInt8(truncatingIfNeeded: raw)), (0...255).contains(raw) else {
                throw StorageError.misuse("outcomes row has unknown kind \(raw)")
            }
            let old: [UInt8]? = kind.carriesOld ? statement.blob(4) : nil
            let request = RequestID(client: UInt64(bitPattern: statement.int64(1)), seq: UInt64(bitPattern: statement.int64(2)))
            guard let outcome = WriteOutcome(seq: UInt64(bitPattern: statement.int64(0)), request: request, kind: kind, old: old) else {
                throw StorageError.misuse("outcomes row of kind \(kind) with\(old == nil ? "out" : "") an old value")
            }
            page.append(outcome)
            bytes += outcome.size
            if bytes >= byteLimit { break }
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

    /// Writes outcomes received in a snapshot, in one transaction.
    public func loadOutcomes(_ outcomes: [WriteOutcome]) throws {
        guard !outcomes.isEmpty else { return }
        let s = try live()
        try inTransaction(s) {
            for outcome in outcomes { try insertOutcome(s, outcome) }
        }
    }

    /// Stores one outcome inside the caller's transaction (`apply`, `loadOutcomes`).
    func insertOutcome(_ s: Statements, _ outcome: WriteOutcome) throws {
        precondition(outcome.seq <= UInt64(Int64.max), "seq \(outcome.seq) does not fit SQLite's INTEGER")
        let statement = s[.insertOutcome]
        defer { statement.reset() }
        try statement.bind(1, int64: Int64(outcome.seq))
        try statement.bind(2, int64: Int64(bitPattern: outcome.request.client))
        try statement.bind(3, int64: Int64(bitPattern: outcome.request.seq))
        try statement.bind(4, int64: Int64(outcome.kind.rawValue))
        if let old = outcome.old { try statement.bind(5, blob: old) }
        try statement.run()
    }
}

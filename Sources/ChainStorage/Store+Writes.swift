import CSQLite

/// Writes: replicated updates, the epoch, and the reset and load of a state transfer; and how a
/// row finds its place between `kv` and `kv_spill`.
extension Store {
    /// Applies `updates` in one transaction (BEGIN IMMEDIATE .. COMMIT): each is an upsert, or a
    /// delete when its value is nil, in order (one whose condition failed changes no row); `last_seq` becomes the last (highest) seq. When
    /// this returns, the batch is on disk: the COMMIT is the fsync. An empty batch does nothing.
    ///
    /// Seqs must be strictly increasing within the batch (a precondition: the caller sequences).
    /// The first must be above the stored `last_seq`, otherwise this throws SQLITE_MISUSE and
    /// changes nothing: moving `last_seq` backwards would make this replica claim less than it has.
    public func apply(_ updates: [StoredUpdate]) throws {
        guard let first = updates.first, let last = updates.last else { return }
        for index in updates.indices.dropFirst() {
            precondition(updates[index - 1].seq < updates[index].seq,
                         "seqs in a batch must be strictly increasing: \(updates[index - 1].seq) then \(updates[index].seq)")
        }
        precondition(last.seq <= UInt64(Int64.max), "seq \(last.seq) does not fit SQLite's INTEGER")
        let s = try live()
        let known = appliedLastSeq
        appliedLastSeq = nil  // until this batch commits
        try inTransaction(s) {
            let stored: UInt64
            if let known, let version = dataVersion(), version == known.dataVersion {
                stored = known.seq
                assert(stored == (try? readMeta(s, .lastSeq)), "the remembered last_seq is the stored one")
            } else {
                stored = try readMeta(s, .lastSeq)
            }
            guard first.seq > stored else {
                throw StorageError.misuse("update seq \(first.seq) is not above last_seq \(stored)")
            }
            // By index, each field read where it lies: `for update in updates` copied every
            // update (retaining and releasing its key, value and request, made on another
            // thread: 1.5 % of the servers' CPU under 8 × 32 writes; issue 18, cut 22).
            var outcomes: [UInt8] = []
            var lastOutcome: UInt64?
            for i in updates.indices {
                if let outcome = updates[i].outcome {
                    OutcomeBatch.append(outcome, to: &outcomes)
                    lastOutcome = outcome.seq
                }
                if !updates[i].update.changesKey { continue }
                if let value = updates[i].update.value {
                    try upsert(s, key: updates[i].update.key, value: value, seq: updates[i].update.seq)
                } else {
                    try delete(s, key: updates[i].update.key)
                }
            }
            if let lastOutcome { try insertOutcomes(s, outcomes, lastSeq: lastOutcome) }
            try writeMeta(s, .lastSeq, last.seq)
            if last.seq > Self.outcomesKeptMax {
                let statement = s[.pruneOutcomes]
                defer { statement.reset() }
                try statement.bind(1, int64: Int64(last.seq - Self.outcomesKeptMax))
                try statement.run()
            }
        }
        appliedLastSeq = dataVersion().map { (last.seq, $0) }
    }

    public func setEpoch(_ epoch: UInt64) throws {
        precondition(epoch <= UInt64(Int64.max), "epoch \(epoch) does not fit SQLite's INTEGER")
        // A single statement is its own durable transaction.
        try writeMeta(try live(), .epoch, epoch)
    }

    /// Marks this database as standing in for a damaged one (moved aside): the replica holds none
    /// of the chain's writes until a snapshot, whatever its epoch says. `reset` clears the mark.
    public func markNeedsTransfer() throws {
        try writeMeta(try live(), .needsTransfer, 1)
    }

    /// Deletes every row and sets `last_seq` (before receiving a snapshot), in one transaction.
    /// The epoch is kept.
    public func reset(lastSeq: UInt64) throws {
        precondition(lastSeq <= UInt64(Int64.max), "seq \(lastSeq) does not fit SQLite's INTEGER")
        let s = try live()
        appliedLastSeq = nil  // `apply` reads the new one
        try inTransaction(s) {
            try s[.deleteAll].run()
            try s[.deleteAllSpill].run()
            try s[.deleteAllOutcomes].run()
            try writeMeta(s, .lastSeq, lastSeq)
            try writeMeta(s, .needsTransfer, 0)
        }
    }

    /// Writes a batch of snapshot rows in one transaction without changing `last_seq`. The rows'
    /// `seq` column gets the current `last_seq`, the snapshot point they belong to.
    public func load(_ rows: [(key: String, value: [UInt8])]) throws {
        try load(versioned: rows.map { (key: $0.key, value: $0.value, version: nil) })
    }

    /// Writes a batch of snapshot rows in one transaction without changing `last_seq`: each row's
    /// `seq` column gets its version as the sender kept it, or (nil: a sender that sent none) the
    /// current `last_seq`, the snapshot point the row belongs to. A version above `last_seq`
    /// would be a write this replica never had: refused (SQLITE_MISUSE), nothing written.
    public func load(versioned rows: [(key: String, value: [UInt8], version: UInt64?)]) throws {
        guard !rows.isEmpty else { return }
        let s = try live()
        try inTransaction(s) {
            let seq = try readMeta(s, .lastSeq)
            for row in rows {
                let version = row.version ?? seq
                guard version <= seq else {
                    throw StorageError.misuse("row version \(version) is above the snapshot's last_seq \(seq)")
                }
                try upsert(s, key: row.key, value: row.value, seq: version)
            }
        }
    }

    // MARK: Slots

    /// What holds `key`'s slot in `kv`.
    private enum SlotState { case empty, thisKey, otherKey }

    private func slotState(_ s: Statements, _ slot: Int64, _ key: String) throws -> SlotState {
        let statement = s[.selectSlotKey]
        defer { statement.reset() }
        try statement.bind(1, int64: slot)
        guard try statement.step() else { return .empty }
        return statement.textEquals(0, key) ? .thisKey : .otherKey
    }

    private func upsert(_ s: Statements, key: String, value: [UInt8], seq: UInt64) throws {
        let slot = slotOf(key)
        let seq = Int64(bitPattern: seq)
        // Most writes replace a key that holds its slot: the update alone finds and rewrites the
        // row. Reading first which key held the slot walked the B-tree twice per write on every
        // replica (cut 13). A new key takes the insert (where the slot read and an insert were
        // two statements before, too); one upsert statement for both cases measured 1.02× the
        // CPU per write of this (`bench/2026-12-06-cut13/upsert-rejected.md`).
        try writeRow(s[.updateSlot], slot: slot, key: key, value: value, seq: seq)
        if sqlite3_changes(db) > 0 { return }
        try writeRow(s[.insertSlotIfFree], slot: slot, key: key, value: value, seq: seq)
        if sqlite3_changes(db) > 0 { return }
        // The slot holds another key (a hash collision): this key lives in kv_spill.
        try writeRow(s[.upsertSpill], slot: slot, key: key, value: value, seq: seq)
    }

    /// Runs one of the row writes, which all take (slot, key, value, seq) as ?1..?4.
    private func writeRow(_ statement: Statement, slot: Int64, key: String, value: [UInt8], seq: Int64) throws {
        defer { statement.reset() }
        try statement.bind(1, int64: slot)
        try statement.bind(4, int64: seq)
        try statement.run(borrowingText: key, at: 2, blob: value, at: 3)
    }

    private func delete(_ s: Statements, key: String) throws {
        let slot = slotOf(key)
        switch try slotState(s, slot, key) {
        case .empty:
            return
        case .otherKey:
            let statement = s[.deleteSpill]
            defer { statement.reset() }
            try statement.bind(1, text: key)
            try statement.run()
        case .thisKey:
            let statement = s[.deleteSlot]
            defer { statement.reset() }
            try statement.bind(1, int64: slot)
            try statement.run()
            // Keep the spill invariant: a spilled key of this slot moves into it.
            let spilled = s[.firstSpillOfSlot]
            defer { spilled.reset() }
            try spilled.bind(1, int64: slot)
            guard try spilled.step() else { return }
            let moved = (key: spilled.text(0), value: spilled.blob(1), seq: spilled.int64(2))
            spilled.reset()
            let remove = s[.deleteSpill]
            defer { remove.reset() }
            try remove.bind(1, text: moved.key)
            try remove.run()
            try writeRow(s[.insertSlot], slot: slot, key: moved.key, value: moved.value, seq: moved.seq)
        }
    }
}

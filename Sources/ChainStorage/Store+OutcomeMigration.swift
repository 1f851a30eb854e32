import ChainCore

/// Databases written before cut 29 keep one `outcomes` row per write; opening one moves its rows
/// into `outcome_batches` (one row each, as a snapshot's outcomes are loaded) and drops the old
/// table, in one transaction, so a retry after the upgrade is still answered from them. Rows
/// already in `outcome_batches` are dropped first: they can only be from before a downgrade to a
/// build that wrote `outcomes` again (and never cleared them, not even for a snapshot).
extension Store {
    func migrateOutcomes(_ s: Statements) throws {
        guard let db, try Self.schemaHas(db, "table", named: "outcomes") else { return }
        try inTransaction(s) {
            // Another connection may have moved them while this one waited for the write lock.
            guard try Self.schemaHas(db, "table", named: "outcomes") else { return }
            try s[.deleteAllOutcomes].run()
            let read = try Statement(db: db, sql: "SELECT seq, client, request, kind, old FROM outcomes ORDER BY seq")
            defer { read.finalize() }
            while try read.step() {
                let raw = read.int64(3)
                guard (0...255).contains(raw), let kind = WriteOutcome.Kind(rawValue: UInt8(raw)) else {
                    throw StorageError.misuse("outcomes row has unknown kind \(raw)")
                }
                let request = RequestID(client: UInt64(bitPattern: read.int64(1)), seq: UInt64(bitPattern: read.int64(2)))
                guard let outcome = WriteOutcome(seq: UInt64(bitPattern: read.int64(0)), request: request, kind: kind,
                                                 old: kind.carriesOld ? read.blob(4) : nil) else {
                    throw StorageError.misuse("outcomes row of kind \(kind) with an old value of the wrong size")
                }
                try insertOutcome(s, outcome)
            }
            read.reset()
            try Self.execute(db, "DROP TABLE outcomes")
        }
    }
}

/// Every statement the store runs, prepared once when it opens.
///
/// `Name` lists each statement once, with its SQL; the prepared statements are kept in an array
/// in `Name` order, so `s[.selectSlot]` is an array index (no hashing on the write path), and
/// preparing and finalizing go through that one list.
struct Statements {
    enum Name: Int, CaseIterable {
        case begin, beginRead, commit, rollback
        case selectSlot, selectSlotKey, insertSlot, updateSlot, insertSlotIfFree, deleteSlot
        case selectSpill, upsertSpill, deleteSpill, firstSpillOfSlot
        case deleteAll, deleteAllSpill, countRows
        case scanSlots, scanSpillFirst, scanSpillAfter, allRowsByKey, scanByKey
        case selectMeta, upsertMeta
        case insertOutcomes, pruneOutcomes, scanOutcomes, deleteAllOutcomes

        var sql: String {
            switch self {
            case .begin: "BEGIN IMMEDIATE"
            case .beginRead: "BEGIN DEFERRED"
            case .commit: "COMMIT"
            case .rollback: "ROLLBACK"
            case .selectSlot: "SELECT key, value, seq FROM kv WHERE id = ?1"
            case .selectSlotKey: "SELECT key FROM kv WHERE id = ?1"
            case .insertSlot: "INSERT INTO kv(id, key, value, seq) VALUES (?1, ?2, ?3, ?4)"
            case .updateSlot: "UPDATE kv SET value = ?3, seq = ?4 WHERE id = ?1 AND key = ?2"
            case .insertSlotIfFree: "INSERT INTO kv(id, key, value, seq) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO NOTHING"
            case .deleteSlot: "DELETE FROM kv WHERE id = ?1"
            case .selectSpill: "SELECT value, seq FROM kv_spill WHERE key = ?1"
            case .upsertSpill: """
                INSERT INTO kv_spill(id, key, value, seq) VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value, seq = excluded.seq
                """
            case .deleteSpill: "DELETE FROM kv_spill WHERE key = ?1"
            case .firstSpillOfSlot: "SELECT key, value, seq FROM kv_spill WHERE id = ?1 ORDER BY key LIMIT 1"
            case .deleteAll: "DELETE FROM kv"
            case .deleteAllSpill: "DELETE FROM kv_spill"
            case .countRows: "SELECT (SELECT count(*) FROM kv) + (SELECT count(*) FROM kv_spill)"
            // ?3...?4: the rows whose hash slot (`Store.hashSlot`) is in that range.
            case .scanSlots: "SELECT id, key, value, seq FROM kv WHERE id > ?1 AND (id & 4095) BETWEEN ?3 AND ?4 ORDER BY id LIMIT ?2"
            case .scanSpillFirst: "SELECT key, value, seq FROM kv_spill WHERE (id & 4095) BETWEEN ?3 AND ?4 ORDER BY key LIMIT ?2"
            case .scanSpillAfter: "SELECT key, value, seq FROM kv_spill WHERE key > ?1 AND (id & 4095) BETWEEN ?3 AND ?4 ORDER BY key LIMIT ?2"
            case .allRowsByKey: """
                SELECT key, value FROM (SELECT key, value FROM kv UNION ALL SELECT key, value FROM kv_spill)
                ORDER BY key LIMIT ?1
                """
            // Both tables' rows of [?1, ?2) in byte order: SQLite merges the two index searches
            // (kv_key and kv_spill's primary key) without sorting (EXPLAIN: MERGE (UNION ALL)).
            case .scanByKey: """
                SELECT key, value, seq FROM kv WHERE key >= ?1 AND key < ?2
                UNION ALL SELECT key, value, seq FROM kv_spill WHERE key >= ?1 AND key < ?2 ORDER BY 1 LIMIT ?3
                """
            case .selectMeta: "SELECT value FROM meta WHERE name = ?1"
            case .upsertMeta: """
                INSERT INTO meta(name, value) VALUES (?1, ?2)
                ON CONFLICT(name) DO UPDATE SET value = excluded.value
                """
            // REPLACE: a snapshot chunk sent again carries the rows it wrote the first time.
            case .insertOutcomes: "INSERT OR REPLACE INTO outcome_batches(last_seq, body) VALUES (?1, ?2)"
            case .pruneOutcomes: "DELETE FROM outcome_batches WHERE last_seq <= ?1"
            case .scanOutcomes: "SELECT body FROM outcome_batches WHERE last_seq > ?1 ORDER BY last_seq"
            case .deleteAllOutcomes: "DELETE FROM outcome_batches"
            }
        }
    }

    /// Indexed by `Name.rawValue`: `allCases` is in declaration order, and the raw values count
    /// up from 0 in that order.
    private let prepared: [Statement]

    init(db: OpaquePointer) throws {
        // A failure part way leaves the statements prepared so far to their deinit, which finalizes them.
        prepared = try Name.allCases.map { try Statement(db: db, sql: $0.sql) }
    }

    subscript(name: Name) -> Statement {
        prepared[name.rawValue]
    }

    func finalizeAll() {
        for statement in prepared {
            statement.finalize()
        }
    }
}

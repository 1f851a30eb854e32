import CSQLite

/// A durable key-value store in one SQLite database file: one connection and its prepared statements.
///
/// Layout (kept plain so the `sqlite3` CLI can inspect and compare replicas):
/// - `kv(id INTEGER PRIMARY KEY, key TEXT NOT NULL, value BLOB NOT NULL, seq INTEGER NOT NULL)`:
///   each key under the rowid `KeySlot.of(key)`, so a get is one B-tree search by integer and
///   one leaf read; `seq` is the sequence number of the update that last wrote the row.
/// - `kv_spill(key TEXT PRIMARY KEY, id, value, seq)`: a key whose slot another key already
///   holds (a hash collision; empty in practice). Invariant: every spill row's slot is taken in
///   `kv` by a different key, so an empty slot means "no such key" without a second lookup.
///   Deleting a slot's key moves a spilled key of that slot into it.
///
///   `kv` is not a `key TEXT PRIMARY KEY ... WITHOUT ROWID` table: that layout keeps whole rows
///   in the B-tree's inner pages too: with 1.2 KiB rows an inner page had about 6 children, and a
///   get at 1,000,000 rows walked about 8 pages, most of them outside the cache.
/// - `meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL)`: `last_seq` (highest applied update)
///   and `epoch`. A missing row reads as 0, so opening a database never has to write (but for
///   the one-time move of a pre-cut-29 `outcomes` table, `Store+OutcomeMigration.swift`).
/// - `outcome_batches(last_seq INTEGER PRIMARY KEY, body BLOB NOT NULL)`: the reply of each
///   recent write that carried a client request id (`WriteOutcome`), the last `outcomesKeptMax`
///   sequence numbers' worth, one row per commit (`OutcomeBatch` encodes its outcomes) keyed by
///   the seq of its last outcome, so that pruning is one range delete.
///
/// Keys are ordered by SQLite's BINARY collation, that is by their UTF-8 bytes, which is not
/// always Swift's `String` order.
///
/// The methods are split by concern: reads in `Store+Reads.swift`, writes in `Store+Writes.swift`,
/// the stored outcomes in `Store+Outcomes.swift`, the schema and pragmas in `Schema.swift`, and
/// the prepared statements in `Statements.swift`.
///
/// `@unchecked Sendable`: an SQLite connection opened with NOMUTEX, and its statements, must not be
/// used by two threads at once, so the type is not thread-safe. It is Sendable only so that it can
/// be handed to the one thread that owns it (the `GroupCommitter` thread, or a test). Callers
/// guarantee that one thread at a time uses it.
public final class Store: @unchecked Sendable {
    private(set) var db: OpaquePointer?
    private var statements: Statements?
    private let path: String
    let slotOf: (String) -> Int64
    /// `last_seq` as this connection last committed it in `apply`, and the file's data version
    /// right after (`dataVersion()`). While the version is the same inside the next write
    /// transaction, nothing else has committed, so `apply` checks its first seq against this
    /// instead of reading the `meta` row (a SELECT per batch: 1.7 % of a middle server's CPU under
    /// 32 closed-loop writers, `bench/2026-12-06-round3-after-cut17/profile-middle-closed-loop.txt`).
    var appliedLastSeq: (seq: UInt64, dataVersion: UInt32)?

    /// Opens or creates the database at `path`: WAL journal, synchronous=FULL (every COMMIT is
    /// fsynced before it returns), 5 s busy timeout, schema created if missing.
    /// `cacheKiB` bounds this connection's page cache (its memory grows up to that much).
    public convenience init(path: String, cacheKiB: Int = Store.defaultCacheKiB) throws {
        try self.init(path: path, cacheKiB: cacheKiB, slotOf: KeySlot.of)
    }

    /// The slot function is `KeySlot.of` outside tests; a test passes one with many collisions
    /// to exercise `kv_spill`. A database must always be opened with the same function.
    init(path: String, cacheKiB: Int, slotOf: @escaping (String) -> Int64) throws {
        precondition(cacheKiB > 0, "cacheKiB must be positive")
        self.slotOf = slotOf
        let db = try Store.openConnection(path: path, cacheKiB: cacheKiB)
        let statements: Statements
        do {
            statements = try Statements(db: db)
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
        self.statements = statements
        self.db = db
        self.path = path
        try migrateOutcomes(statements)  // on failure, deinit closes the connection
    }

    deinit {
        close()
    }

    /// Finalizes the statements and closes the connection. Idempotent; any later call throws.
    public func close() {
        appliedLastSeq = nil
        statements?.finalizeAll()
        statements = nil
        if let db {
            // close_v2 never fails with SQLITE_BUSY: leftovers become a zombie freed later.
            sqlite3_close_v2(db)
        }
        db = nil
    }

    /// Copies committed WAL frames into the database file without blocking the writer or readers
    /// (`SQLITE_CHECKPOINT_PASSIVE`); does nothing when nothing new is in the WAL. For
    /// `Checkpointer`, on a connection of its own.
    public func checkpointPassive() throws {
        _ = try live()
        let rc = sqlite3_wal_checkpoint_v2(db!, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        // BUSY: another checkpoint is running (the writer's own); the next round catches up.
        guard rc == SQLITE_OK || rc == SQLITE_BUSY else {
            throw StorageError.sqlite(rc, db, "checkpointing the WAL")
        }
    }

    /// Copies the whole WAL into the database file and truncates the WAL to nothing
    /// (`SQLITE_CHECKPOINT_TRUNCATE`): at a clean stop, once no other connection reads.
    public func checkpointTruncate() throws {
        _ = try live()
        let rc = sqlite3_wal_checkpoint_v2(db!, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
        guard rc == SQLITE_OK else {
            throw StorageError.sqlite(rc, db, "checkpointing the WAL (truncate)")
        }
    }

    // MARK: Helpers

    func live() throws -> Statements {
        guard let statements else {
            throw StorageError.misuse("store \(path) is closed")
        }
        return statements
    }

    func inTransaction<T>(_ s: Statements, _ body: () throws -> T) throws -> T {
        // IMMEDIATE takes the write lock now (waiting up to the busy timeout) rather than failing
        // with SQLITE_BUSY halfway through when a read lock cannot be upgraded.
        try s[.begin].run()
        do {
            let result = try body()
            try s[.commit].run()
            return result
        } catch {
            // A failed COMMIT may already have rolled back; ROLLBACK outside a transaction is an error.
            if let db, sqlite3_get_autocommit(db) == 0 {
                try? s[.rollback].run()
            }
            throw error
        }
    }

    /// SQLite's data version of the main file (SQLITE_FCNTL_DATA_VERSION): it changes with every
    /// commit to the file, this connection's or another's (seen once a transaction has begun).
    func dataVersion() -> UInt32? {
        guard let db else { return nil }
        var version: UInt32 = 0
        return sqlite3_file_control(db, "main", SQLITE_FCNTL_DATA_VERSION, &version) == SQLITE_OK ? version : nil
    }

    func readMeta(_ s: Statements, _ name: MetaName) throws -> UInt64 {
        let statement = s[.selectMeta]
        defer { statement.reset() }
        try statement.bind(1, text: name.rawValue)
        return try statement.step() ? UInt64(bitPattern: statement.int64(0)) : 0
    }

    func writeMeta(_ s: Statements, _ name: MetaName, _ value: UInt64) throws {
        let statement = s[.upsertMeta]
        defer { statement.reset() }
        try statement.bind(1, text: name.rawValue)
        try statement.bind(2, int64: Int64(bitPattern: value))
        try statement.run()
    }
}

/// Names of the rows in the `meta` table.
enum MetaName: String {
    case lastSeq = "last_seq"
    case epoch = "epoch"
    /// 1 in a database made to replace a damaged one, until a snapshot arrives (`reset`).
    case needsTransfer = "needs_transfer"
}

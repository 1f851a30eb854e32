import CSQLite

/// A durable key-value store in one SQLite database file: one connection and its prepared statements.
///
/// Layout (kept plain so the `sqlite3` CLI can inspect and compare replicas):
/// - `kv(key TEXT PRIMARY KEY, value BLOB NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID`:
///   `seq` is the sequence number of the update that last wrote the row.
/// - `meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL)`: `last_seq` (highest applied update)
///   and `epoch`. A missing row reads as 0, so opening a database never has to write.
/// - `outcomes(seq INTEGER PRIMARY KEY, client, request, kind, old)`: the reply of each recent
///   write that carried a client request id (`StoredOutcome`), the last `outcomesKeptMax`
///   sequence numbers' worth. Keyed by seq so that pruning is one range delete.
///
/// Keys are ordered by SQLite's BINARY collation, that is by their UTF-8 bytes, which is not
/// always Swift's `String` order.
///
/// `@unchecked Sendable`: an SQLite connection opened with NOMUTEX, and its statements, must not be
/// used by two threads at once, so the type is not thread-safe. It is Sendable only so that it can
/// be handed to the one thread that owns it (the `GroupCommitter` thread, or a test). Callers
/// guarantee that one thread at a time uses it.
public final class Store: @unchecked Sendable {
    /// Outcomes are kept for writes within this many sequence numbers of `last_seq`: the window
    /// in which a retry is recognized (equal to the core's `CoreLimits.requestsRememberedMax`,
    /// which the server checks at start).
    public static let outcomesKeptMax: UInt64 = 65536

    private var db: OpaquePointer?
    private var statements: Statements?
    private let path: String

    /// Page size of a new database file. With 8 KiB pages a row of a 128 B key and a 1 KiB value
    /// (about 1.2 KiB) stays inside its `WITHOUT ROWID` leaf: with SQLite's default 4 KiB pages
    /// any row over about 1,000 bytes spills its tail into an overflow page of its own, so every
    /// get read two pages and every put wrote two. An existing file keeps the page size it was
    /// created with (WAL mode cannot change it), so older databases open unchanged.
    public static let newPageSize = 8192
    /// Default page cache of one connection, in KiB (SQLite's own default is 2,000 KiB).
    public static let defaultCacheKiB = 16 * 1024
    /// Pages the WAL may hold before a commit checkpoints it into the database file itself.
    /// SQLite's default (1,000) checkpointed every few hundred puts, each time copying and
    /// fsyncing on the committer thread. The server runs a `Checkpointer` beside the writer, so
    /// this is only the bound on the WAL: 16,000 pages of 8 KiB, 128 MiB.
    public static let walAutocheckpointPages = 16000

    /// Opens or creates the database at `path`: WAL journal, synchronous=FULL (every COMMIT is
    /// fsynced before it returns), 5 s busy timeout, schema created if missing.
    /// `cacheKiB` bounds this connection's page cache (its memory grows up to that much).
    public init(path: String, cacheKiB: Int = Store.defaultCacheKiB) throws {
        precondition(cacheKiB > 0, "cacheKiB must be positive")
        let db = try Store.openConnection(path: path, cacheKiB: cacheKiB)
        do {
            statements = try Statements(db: db)
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
        self.db = db
        self.path = path
    }

    deinit {
        close()
    }

    /// Finalizes the statements and closes the connection. Idempotent; any later call throws.
    public func close() {
        statements?.finalizeAll()
        statements = nil
        if let db {
            // close_v2 never fails with SQLITE_BUSY: leftovers become a zombie freed later.
            sqlite3_close_v2(db)
        }
        db = nil
    }

    // MARK: Reads

    /// Starts one read transaction: every read until `endSnapshot()` sees the same committed
    /// state, however much another connection commits meanwhile (WAL keeps the old pages). State
    /// transfer pages through a whole database this way and gets one consistent snapshot.
    public func beginSnapshot() throws {
        _ = try live()
        try Self.execute(db!, "BEGIN DEFERRED")
        // A deferred transaction takes its snapshot at the first read: take it now.
        _ = try lastSeq()
    }

    public func endSnapshot() throws {
        _ = try live()
        try Self.execute(db!, "COMMIT")
    }

    public func get(_ key: String) throws -> [UInt8]? {
        let statement = try live().selectValue
        defer { statement.reset() }
        try statement.bind(1, text: key)
        return try statement.step() ? statement.blob(0) : nil
    }

    /// The highest sequence number applied (or set by `reset`); 0 for a new database.
    public func lastSeq() throws -> UInt64 {
        try readMeta(try live(), .lastSeq)
    }

    public func epoch() throws -> UInt64 {
        try readMeta(try live(), .epoch)
    }

    public func count() throws -> Int {
        let statement = try live().countRows
        defer { statement.reset() }
        guard try statement.step() else {
            throw StorageError.misuse("count(*) returned no row")
        }
        return Int(statement.int64(0))
    }

    /// Snapshot chunk for state transfer: rows with key > `after` (nil: from the start), in key
    /// order, at most `limit` rows and stopping once the summed key+value bytes reach `byteLimit`
    /// (always at least one row if any remain). Each call reads its own snapshot of the database;
    /// pages are consistent with each other only if nothing writes in between.
    public func scan(after: String?, limit: Int, byteLimit: Int) throws -> [(key: String, value: [UInt8])] {
        precondition(limit > 0, "scan limit must be positive")
        precondition(byteLimit > 0, "scan byteLimit must be positive")
        let s = try live()
        let statement = after == nil ? s.scanFirst : s.scanAfter
        defer { statement.reset() }
        if let after {
            try statement.bind(1, text: after)
            try statement.bind(2, int64: Int64(limit))
        } else {
            try statement.bind(1, int64: Int64(limit))
        }
        var rows: [(key: String, value: [UInt8])] = []
        var bytes = 0
        while try statement.step() {
            let row = (key: statement.text(0), value: statement.blob(1))
            rows.append(row)
            bytes += row.key.utf8.count + row.value.count
            if bytes >= byteLimit { break }
        }
        return rows
    }

    /// All rows in key order, at most `limit` of them (for tests and replica comparison).
    public func allRows(limit: Int) throws -> [(key: String, value: [UInt8])] {
        precondition(limit >= 0, "allRows limit must not be negative")
        let statement = try live().scanFirst
        defer { statement.reset() }
        try statement.bind(1, int64: Int64(limit))
        var rows: [(key: String, value: [UInt8])] = []
        while try statement.step() {
            rows.append((key: statement.text(0), value: statement.blob(1)))
        }
        return rows
    }

    // MARK: Writes

    /// Applies `updates` in one transaction (BEGIN IMMEDIATE .. COMMIT): each is an upsert, or a
    /// delete when its value is nil, in order; `last_seq` becomes the last (highest) seq. When
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
        try inTransaction(s) {
            let stored = try readMeta(s, .lastSeq)
            guard first.seq > stored else {
                throw StorageError.misuse("update seq \(first.seq) is not above last_seq \(stored)")
            }
            for update in updates {
                if let outcome = update.outcome { try insertOutcome(s, outcome) }
                if let value = update.value {
                    try upsert(s, key: update.key, value: value, seq: update.seq)
                } else {
                    let statement = s.deleteKey
                    defer { statement.reset() }
                    try statement.bind(1, text: update.key)
                    try statement.run()
                }
            }
            try writeMeta(s, .lastSeq, last.seq)
            if last.seq > Self.outcomesKeptMax {
                let statement = s.pruneOutcomes
                defer { statement.reset() }
                try statement.bind(1, int64: Int64(last.seq - Self.outcomesKeptMax))
                try statement.run()
            }
        }
    }

    /// Stored outcomes with seq > `afterSeq`, oldest first: at most `limit` of them, stopping
    /// once their summed sizes reach `byteLimit` (at least one if any remain).
    public func outcomes(afterSeq: UInt64, limit: Int, byteLimit: Int = .max) throws -> [StoredOutcome] {
        precondition(limit > 0 && byteLimit > 0, "outcome page limits must be positive")
        let statement = try live().scanOutcomes
        defer { statement.reset() }
        try statement.bind(1, int64: Int64(bitPattern: afterSeq))
        try statement.bind(2, int64: Int64(limit))
        var page: [StoredOutcome] = []
        var bytes = 0
        while try statement.step() {
            let raw = statement.int64(3)
            guard let kind = StoredOutcome.Kind(rawValue: UInt8(truncatingIfNeeded: raw)), (0...255).contains(raw) else {
                throw StorageError.misuse("outcomes row has unknown kind \(raw)")
            }
            let old: [UInt8]? = kind == .putOldValue ? statement.blob(4) : nil
            let outcome = StoredOutcome(seq: UInt64(bitPattern: statement.int64(0)), client: UInt64(bitPattern: statement.int64(1)),
                                        request: UInt64(bitPattern: statement.int64(2)), kind: kind, old: old)
            page.append(outcome)
            bytes += outcome.size
            if bytes >= byteLimit { break }
        }
        return page
    }

    /// The outcome stored with update `seq`, if it is kept.
    public func outcome(seq: UInt64) throws -> StoredOutcome? {
        guard seq <= UInt64(Int64.max), seq > 0 else { return nil }
        return try outcomes(afterSeq: seq - 1, limit: 1).first { $0.seq == seq }
    }

    /// Writes outcomes received in a snapshot, in one transaction.
    public func loadOutcomes(_ outcomes: [StoredOutcome]) throws {
        guard !outcomes.isEmpty else { return }
        let s = try live()
        try inTransaction(s) {
            for outcome in outcomes { try insertOutcome(s, outcome) }
        }
    }

    public func setEpoch(_ epoch: UInt64) throws {
        precondition(epoch <= UInt64(Int64.max), "epoch \(epoch) does not fit SQLite's INTEGER")
        // A single statement is its own durable transaction.
        try writeMeta(try live(), .epoch, epoch)
    }

    /// Deletes every row and sets `last_seq` (before receiving a snapshot), in one transaction.
    /// The epoch is kept.
    public func reset(lastSeq: UInt64) throws {
        precondition(lastSeq <= UInt64(Int64.max), "seq \(lastSeq) does not fit SQLite's INTEGER")
        let s = try live()
        try inTransaction(s) {
            try s.deleteAll.run()
            try s.deleteAllOutcomes.run()
            try writeMeta(s, .lastSeq, lastSeq)
        }
    }

    /// Writes a batch of snapshot rows in one transaction without changing `last_seq`. The rows'
    /// `seq` column gets the current `last_seq`, the snapshot point they belong to.
    public func load(_ rows: [(key: String, value: [UInt8])]) throws {
        guard !rows.isEmpty else { return }
        let s = try live()
        try inTransaction(s) {
            let seq = try readMeta(s, .lastSeq)
            for row in rows {
                try upsert(s, key: row.key, value: row.value, seq: seq)
            }
        }
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

    // MARK: Helpers

    private func live() throws -> Statements {
        guard let statements else {
            throw StorageError.misuse("store \(path) is closed")
        }
        return statements
    }

    private func inTransaction<T>(_ s: Statements, _ body: () throws -> T) throws -> T {
        // IMMEDIATE takes the write lock now (waiting up to the busy timeout) rather than failing
        // with SQLITE_BUSY halfway through when a read lock cannot be upgraded.
        try s.begin.run()
        do {
            let result = try body()
            try s.commit.run()
            return result
        } catch {
            // A failed COMMIT may already have rolled back; ROLLBACK outside a transaction is an error.
            if let db, sqlite3_get_autocommit(db) == 0 {
                try? s.rollback.run()
            }
            throw error
        }
    }

    private func upsert(_ s: Statements, key: String, value: [UInt8], seq: UInt64) throws {
        let statement = s.upsertRow
        defer { statement.reset() }
        try statement.bind(1, text: key)
        try statement.bind(2, blob: value)
        try statement.bind(3, int64: Int64(bitPattern: seq))
        try statement.run()
    }

    private func insertOutcome(_ s: Statements, _ outcome: StoredOutcome) throws {
        precondition(outcome.seq <= UInt64(Int64.max), "seq \(outcome.seq) does not fit SQLite's INTEGER")
        let statement = s.insertOutcome
        defer { statement.reset() }
        try statement.bind(1, int64: Int64(outcome.seq))
        try statement.bind(2, int64: Int64(bitPattern: outcome.client))
        try statement.bind(3, int64: Int64(bitPattern: outcome.request))
        try statement.bind(4, int64: Int64(outcome.kind.rawValue))
        if let old = outcome.old { try statement.bind(5, blob: old) }
        try statement.run()
    }

    private func readMeta(_ s: Statements, _ name: MetaName) throws -> UInt64 {
        let statement = s.selectMeta
        defer { statement.reset() }
        try statement.bind(1, text: name.rawValue)
        return try statement.step() ? UInt64(bitPattern: statement.int64(0)) : 0
    }

    private func writeMeta(_ s: Statements, _ name: MetaName, _ value: UInt64) throws {
        let statement = s.upsertMeta
        defer { statement.reset() }
        try statement.bind(1, text: name.rawValue)
        try statement.bind(2, int64: Int64(bitPattern: value))
        try statement.run()
    }

    private static func openConnection(path: String, cacheKiB: Int) throws -> OpaquePointer {
        var handle: OpaquePointer?
        // NOMUTEX: SQLite's own per-connection mutex is redundant, since one thread at a time uses the store.
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let db = handle else {
            let error = StorageError.sqlite(rc, handle, "opening \(path)")
            sqlite3_close_v2(handle)
            throw error
        }
        do {
            sqlite3_extended_result_codes(db, 1)
            // Waiting for another connection's write lock beats failing at once with SQLITE_BUSY.
            try check(sqlite3_busy_timeout(db, 5_000), db, "setting busy_timeout")
            // Only takes effect while the file is still empty (before WAL mode and the schema
            // write its first page); an existing database keeps its page size.
            try execute(db, "PRAGMA page_size=\(newPageSize)")
            // Negative: a size in KiB, whatever the page size.
            try execute(db, "PRAGMA cache_size=-\(cacheKiB)")
            // WAL: readers (a second connection, the sqlite3 CLI) never block the writer, and a
            // commit is one append plus one fsync of the WAL.
            let mode = try queryText(db, "PRAGMA journal_mode=WAL")
            guard mode.lowercased() == "wal" else {
                throw StorageError.misuse("\(path): journal_mode is \(mode), WAL is required")
            }
            // FULL: the WAL is fsynced at every COMMIT, so a committed batch survives power loss
            // (NORMAL in WAL mode may lose the last commits).
            try execute(db, "PRAGMA synchronous=FULL")
            let synchronous = try queryText(db, "PRAGMA synchronous")
            guard synchronous == "2" else {
                throw StorageError.misuse("\(path): synchronous is \(synchronous), FULL (2) is required")
            }
            _ = try queryText(db, "PRAGMA wal_autocheckpoint=\(walAutocheckpointPages)")
            // After a checkpoint has emptied the WAL, the next writer truncates the file to this
            // size instead of leaving it at its largest.
            _ = try queryText(db, "PRAGMA journal_size_limit=\(walAutocheckpointPages * newPageSize)")
            // Creating a table that exists takes no write lock, so opening a second connection
            // (a reader) on a live database does not contend with the writer.
            try execute(db, """
                CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, value BLOB NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS outcomes(seq INTEGER PRIMARY KEY, client INTEGER NOT NULL,
                    request INTEGER NOT NULL, kind INTEGER NOT NULL, old BLOB);
                """)
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
        return db
    }

    private static func execute(_ db: OpaquePointer, _ sql: String) throws {
        try check(sqlite3_exec(db, sql, nil, nil, nil), db, "executing \(sql)")
    }

    private static func queryText(_ db: OpaquePointer, _ sql: String) throws -> String {
        let statement = try Statement(db: db, sql: sql)
        defer { statement.finalize() }
        guard try statement.step() else {
            throw StorageError.misuse("\(sql) returned no row")
        }
        return statement.text(0)
    }

    private static func check(_ rc: Int32, _ db: OpaquePointer, _ context: String) throws {
        guard rc == SQLITE_OK else {
            throw StorageError.sqlite(rc, db, context)
        }
    }
}

/// Names of the rows in the `meta` table.
private enum MetaName: String {
    case lastSeq = "last_seq"
    case epoch = "epoch"
}

/// Every statement the store runs, prepared once when it opens.
private struct Statements {
    let begin: Statement
    let commit: Statement
    let rollback: Statement
    let selectValue: Statement
    let upsertRow: Statement
    let deleteKey: Statement
    let deleteAll: Statement
    let countRows: Statement
    let scanFirst: Statement
    let scanAfter: Statement
    let selectMeta: Statement
    let upsertMeta: Statement
    let insertOutcome: Statement
    let pruneOutcomes: Statement
    let scanOutcomes: Statement
    let deleteAllOutcomes: Statement

    init(db: OpaquePointer) throws {
        begin = try Statement(db: db, sql: "BEGIN IMMEDIATE")
        commit = try Statement(db: db, sql: "COMMIT")
        rollback = try Statement(db: db, sql: "ROLLBACK")
        selectValue = try Statement(db: db, sql: "SELECT value FROM kv WHERE key = ?1")
        upsertRow = try Statement(db: db, sql: """
            INSERT INTO kv(key, value, seq) VALUES (?1, ?2, ?3)
            ON CONFLICT(key) DO UPDATE SET value = excluded.value, seq = excluded.seq
            """)
        deleteKey = try Statement(db: db, sql: "DELETE FROM kv WHERE key = ?1")
        deleteAll = try Statement(db: db, sql: "DELETE FROM kv")
        countRows = try Statement(db: db, sql: "SELECT count(*) FROM kv")
        scanFirst = try Statement(db: db, sql: "SELECT key, value FROM kv ORDER BY key LIMIT ?1")
        scanAfter = try Statement(db: db, sql: "SELECT key, value FROM kv WHERE key > ?1 ORDER BY key LIMIT ?2")
        selectMeta = try Statement(db: db, sql: "SELECT value FROM meta WHERE name = ?1")
        upsertMeta = try Statement(db: db, sql: """
            INSERT INTO meta(name, value) VALUES (?1, ?2)
            ON CONFLICT(name) DO UPDATE SET value = excluded.value
            """)
        // REPLACE: a snapshot may carry an outcome this replica already holds.
        insertOutcome = try Statement(db: db, sql: "INSERT OR REPLACE INTO outcomes(seq, client, request, kind, old) VALUES (?1, ?2, ?3, ?4, ?5)")
        pruneOutcomes = try Statement(db: db, sql: "DELETE FROM outcomes WHERE seq <= ?1")
        scanOutcomes = try Statement(db: db, sql: "SELECT seq, client, request, kind, old FROM outcomes WHERE seq > ?1 ORDER BY seq LIMIT ?2")
        deleteAllOutcomes = try Statement(db: db, sql: "DELETE FROM outcomes")
    }

    func finalizeAll() {
        for statement in [begin, commit, rollback, selectValue, upsertRow, deleteKey, deleteAll,
                          countRows, scanFirst, scanAfter, selectMeta, upsertMeta, insertOutcome, pruneOutcomes,
                          scanOutcomes, deleteAllOutcomes] {
            statement.finalize()
        }
    }
}

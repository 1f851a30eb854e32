import CSQLite

/// Opening the connection: its pragmas and the schema (the tables are described on `Store`).
extension Store {
    /// Page size of a new database file. Each put rewrites its row's leaf page, and the WAL takes
    /// the whole page: a page just large enough for a typical row is the cheapest. A 2 KiB leaf
    /// holds a row of up to about 2,000 bytes (a 128 B key and a 1 KiB value) without an
    /// overflow page, so each such put adds one 2 KiB frame to the WAL, where 4 KiB pages wrote
    /// 4 KiB: scripts/bench-ab measured 78 → 71 µs of server CPU per write (3-server chain,
    /// 8 × 32 in flight; 163 → 160 with 32 closed-loop writers). Rows over about 2,000 bytes
    /// take overflow pages (a 4 KiB value: 3 frames, where 4 KiB pages took 2), and so do index
    /// entries of keys over about 480 bytes (`kv_spill`'s and the key index's; about 1,000 with
    /// 4 KiB pages): correct, one more page per such key. An existing
    /// file keeps the page size it was created with (WAL mode cannot change it).
    public static let newPageSize = 2048
    /// Default page cache of one connection, in KiB (SQLite's own default is 2,000 KiB).
    public static let defaultCacheKiB = 16 * 1024
    /// Bytes of pages the WAL may hold before a commit checkpoints it into the database file
    /// itself: 128 MiB, 65,536 pages of 2 KiB. SQLite's default (1,000 pages) checkpointed every
    /// few hundred puts, each time copying and fsyncing on the committer thread. The server runs a
    /// `Checkpointer` beside the writer, so this is only the bound on the WAL.
    ///
    /// A checkpoint copies each page changed since the last one once, however often it changed,
    /// so a small hot set of pages (4,000 keys of 1 KiB: about 4,000 leaf pages, one row each)
    /// costs a whole copy per checkpoint. With 16,000 pages the WAL of a busy writer (about
    /// 24,000 frames a second) filled in under a second, and with the checkpointer's runs every
    /// 500 ms a middle server copied 0.40 pages per write (pread + pwrite); with 64,000 pages and
    /// checkpoints every 2 s it copied 0.16, and server CPU per write fell from 70 to 63 µs
    /// (bench/2026-12-05-checkpoint). The price: after a busy period each database's WAL file
    /// stays about this size (`journal_size_limit`) until a clean stop, it grows past it while a
    /// snapshot is being sent (a reader holds the WAL), and a crashed server reads it once to
    /// rebuild its index when it reopens the file (inside the start's integrity check).
    public static let walBudgetBytes = 128 << 20

    /// The WAL bound in pages for a file's page size: a budget in bytes, since an older file
    /// keeps the 4 or 8 KiB pages it was created with.
    public static func walAutocheckpointPages(pageSize: Int) -> Int {
        precondition(pageSize >= 512 && pageSize <= 65536, "SQLite page sizes are 512 to 65536 bytes")
        return walBudgetBytes / pageSize
    }

    /// Size of a WAL file holding `frames` pages of `pageSize` bytes: a 32-byte header, then a
    /// 24-byte header before each page.
    public static func walFileBytes(frames: Int, pageSize: Int) -> Int { 32 + frames * (pageSize + 24) }

    /// Opens the connection, sets its pragmas and creates the tables that are missing.
    static func openConnection(path: String, cacheKiB: Int) throws -> OpaquePointer {
        var handle: OpaquePointer?
        // NOMUTEX: SQLite's own per-connection mutex is redundant, since one thread at a time uses the store.
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        try WALBuffer.register()
        let rc = sqlite3_open_v2(path, &handle, flags, WALBuffer.vfsName)
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
            let pageSize = Int(try queryText(db, "PRAGMA page_size")) ?? newPageSize
            let walPages = walAutocheckpointPages(pageSize: pageSize)
            _ = try queryText(db, "PRAGMA wal_autocheckpoint=\(walPages)")
            // After a checkpoint has emptied the WAL, the next writer truncates the file to this
            // size instead of leaving it at its largest: the bound's own size, frame headers
            // included, so that a busy WAL is not cut and regrown at every restart.
            _ = try queryText(db, "PRAGMA journal_size_limit=\(walFileBytes(frames: walPages, pageSize: pageSize))")
            // Creating a table that exists takes no write lock, so opening a second connection
            // (a reader) on a live database does not contend with the writer; nor does the
            // outcomes migration (`Store.init`) once the first connection has made it.
            try execute(db, """
                CREATE TABLE IF NOT EXISTS kv(id INTEGER PRIMARY KEY, key TEXT NOT NULL, value BLOB NOT NULL, seq INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS kv_spill(key TEXT PRIMARY KEY, id INTEGER NOT NULL, value BLOB NOT NULL, seq INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS kv_spill_slot_key ON kv_spill(id, key);
                CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS outcome_batches(last_seq INTEGER PRIMARY KEY, body BLOB NOT NULL);
                """)
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
        return db
    }

    /// Runs `sql` (one or more statements that return no rows) outside the prepared statements:
    /// the schema, pragmas, and one-time changes to it (the key index, the outcomes migration).
    static func execute(_ db: OpaquePointer, _ sql: String) throws {
        try check(sqlite3_exec(db, sql, nil, nil, nil), db, "executing \(sql)")
    }

    /// Whether the file's schema holds a `type` ("table", "index") named `name`.
    static func schemaHas(_ db: OpaquePointer, _ type: String, named name: String) throws -> Bool {
        let statement = try Statement(db: db, sql: "SELECT 1 FROM sqlite_master WHERE type = ?1 AND name = ?2")
        defer { statement.finalize() }
        try statement.bind(1, text: type)
        try statement.bind(2, text: name)
        return try statement.step()
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

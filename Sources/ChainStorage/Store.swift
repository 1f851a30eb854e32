import ChainCore
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
///   Until this layout, `kv` was `key TEXT PRIMARY KEY ... WITHOUT ROWID`. That layout keeps whole
///   rows in the B-tree's inner pages too: with 1.2 KiB rows an inner page had about 6 children,
///   and a get at 1,000,000 rows walked about 8 pages, most of them outside the cache. A database
///   of that layout is converted when it opens (`migrateLayout`, `finishMigration`).
/// - `meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL)`: `last_seq` (highest applied update)
///   and `epoch`. A missing row reads as 0, so opening a database never has to write.
/// - `outcomes(seq INTEGER PRIMARY KEY, client, request, kind, old)`: the reply of each recent
///   write that carried a client request id (`WriteOutcome`), the last `outcomesKeptMax`
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
    private let slotOf: (String) -> Int64

    /// Page size of a new database file. A rowid table's leaf holds rows up to about 4,000 bytes
    /// of a 4 KiB page without an overflow page, so a 128 B key and a 1 KiB value fit, and each
    /// put adds one 4 KiB frame to the WAL rather than 8. An existing file keeps the page size it
    /// was created with (WAL mode cannot change it).
    public static let newPageSize = 4096
    /// Default page cache of one connection, in KiB (SQLite's own default is 2,000 KiB).
    public static let defaultCacheKiB = 16 * 1024
    /// Pages the WAL may hold before a commit checkpoints it into the database file itself.
    /// SQLite's default (1,000) checkpointed every few hundred puts, each time copying and
    /// fsyncing on the committer thread. The server runs a `Checkpointer` beside the writer, so
    /// this is only the bound on the WAL: 16,000 pages, 64 MiB of 4 KiB pages.
    public static let walAutocheckpointPages = 16000

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
        let (db, migrating) = try Store.openConnection(path: path, cacheKiB: cacheKiB)
        do {
            statements = try Statements(db: db)
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
        self.db = db
        self.path = path
        if migrating {
            do {
                try finishMigration()
            } catch {
                close()
                throw error
            }
        }
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
        try live().beginRead.run()
        // A deferred transaction takes its snapshot at the first read: take it now.
        _ = try lastSeq()
    }

    public func endSnapshot() throws {
        try live().commit.run()
    }

    /// Starts a read transaction whose snapshot is taken at the first read after it. A run of
    /// gets inside one transaction costs one pair of WAL-index locks (`fcntl` calls) instead of a
    /// pair per get; the caller ends it with `endRead()` before it needs to see later commits.
    /// Not for a connection that also uses `beginSnapshot` (both end with the same COMMIT).
    public func beginRead() throws {
        let s = try live()
        // A transaction left open by a failed end would make BEGIN fail on every later read and
        // pin the WAL: drop it first (a read transaction has nothing to lose).
        if sqlite3_get_autocommit(db!) == 0 { try s.rollback.run() }
        try s.beginRead.run()
    }

    /// Ends the transaction of `beginRead()`; does nothing when none is open. If COMMIT fails,
    /// the transaction is rolled back before the error is thrown, so it never stays open.
    public func endRead() throws {
        let s = try live()
        guard sqlite3_get_autocommit(db!) == 0 else { return }
        do {
            try s.commit.run()
        } catch {
            if sqlite3_get_autocommit(db!) == 0 { try? s.rollback.run() }
            throw error
        }
    }

    public func get(_ key: String) throws -> [UInt8]? {
        let s = try live()
        let statement = s.selectSlot
        defer { statement.reset() }
        try statement.bind(1, int64: slotOf(key))
        guard try statement.step() else { return nil }  // an empty slot: no such key anywhere
        if statement.textEquals(0, key) { return statement.blob(1) }
        let spill = s.selectSpill
        defer { spill.reset() }
        try spill.bind(1, text: key)
        return try spill.step() ? spill.blob(0) : nil
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

    /// Snapshot chunk for state transfer: the rows after `cursor`, at most `limit` of them and
    /// stopping once the summed key+value bytes reach `byteLimit` (always at least one row if any
    /// remain); an empty page ends the scan. The order (`ScanCursor`) is not key order. Each call
    /// reads its own snapshot of the database unless a transaction is open (`beginSnapshot`);
    /// pages are consistent with each other only inside one.
    public func scan(after cursor: ScanCursor, limit: Int, byteLimit: Int) throws -> ScanPage {
        precondition(limit > 0, "scan limit must be positive")
        precondition(byteLimit > 0, "scan byteLimit must be positive")
        let s = try live()
        var rows: [(key: String, value: [UInt8])] = []
        var bytes = 0
        var next = cursor
        if case .spill = cursor.position {} else {
            let statement = s.scanSlots
            defer { statement.reset() }
            if case .slot(let id) = cursor.position {
                try statement.bind(1, int64: id)
            } else {
                try statement.bind(1, int64: -1)  // slots are never negative
            }
            try statement.bind(2, int64: Int64(limit))
            while try statement.step() {
                let row = (key: statement.text(1), value: statement.blob(2))
                rows.append(row)
                next = ScanCursor(position: .slot(statement.int64(0)))
                bytes += row.key.utf8.count + row.value.count
                if bytes >= byteLimit { return ScanPage(rows: rows, next: next) }
            }
            if !rows.isEmpty { return ScanPage(rows: rows, next: next) }
        }
        // The slots are done: the spilled rows follow, in key order.
        let statement: Statement
        if case .spill(let key) = cursor.position {
            statement = s.scanSpillAfter
            try statement.bind(1, text: key)
            try statement.bind(2, int64: Int64(limit))
        } else {
            statement = s.scanSpillFirst
            try statement.bind(1, int64: Int64(limit))
        }
        defer { statement.reset() }
        while try statement.step() {
            let row = (key: statement.text(0), value: statement.blob(1))
            rows.append(row)
            next = ScanCursor(position: .spill(row.key))
            bytes += row.key.utf8.count + row.value.count
            if bytes >= byteLimit { break }
        }
        return ScanPage(rows: rows, next: next)
    }

    /// All rows in key order, at most `limit` of them (for tests and replica comparison).
    public func allRows(limit: Int) throws -> [(key: String, value: [UInt8])] {
        precondition(limit >= 0, "allRows limit must not be negative")
        let statement = try live().allRowsByKey
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
                    try delete(s, key: update.key)
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
    public func outcomes(afterSeq: UInt64, limit: Int, byteLimit: Int = .max) throws -> [WriteOutcome] {
        precondition(limit > 0 && byteLimit > 0, "outcome page limits must be positive")
        let statement = try live().scanOutcomes
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
            let old: [UInt8]? = kind == .putOldValue ? statement.blob(4) : nil
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
            try s.deleteAllSpill.run()
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

    /// What holds `key`'s slot in `kv`.
    private enum SlotState { case empty, thisKey, otherKey }

    private func slotState(_ s: Statements, _ slot: Int64, _ key: String) throws -> SlotState {
        let statement = s.selectSlotKey
        defer { statement.reset() }
        try statement.bind(1, int64: slot)
        guard try statement.step() else { return .empty }
        return statement.textEquals(0, key) ? .thisKey : .otherKey
    }

    private func upsert(_ s: Statements, key: String, value: [UInt8], seq: UInt64) throws {
        let slot = slotOf(key)
        let statement: Statement
        switch try slotState(s, slot, key) {
        case .empty: statement = s.insertSlot
        case .thisKey: statement = s.updateSlot
        case .otherKey: statement = s.upsertSpill  // a collision: the key lives in kv_spill
        }
        try writeRow(statement, slot: slot, key: key, value: value, seq: Int64(bitPattern: seq))
    }

    /// Runs one of the row writes, which all take (slot, key, value, seq) as ?1..?4.
    private func writeRow(_ statement: Statement, slot: Int64, key: String, value: [UInt8], seq: Int64) throws {
        defer { statement.reset() }
        try statement.bind(1, int64: slot)
        try statement.bind(2, text: key)
        try statement.bind(3, blob: value)
        try statement.bind(4, int64: seq)
        try statement.run()
    }

    private func delete(_ s: Statements, key: String) throws {
        let slot = slotOf(key)
        switch try slotState(s, slot, key) {
        case .empty:
            return
        case .otherKey:
            let statement = s.deleteSpill
            defer { statement.reset() }
            try statement.bind(1, text: key)
            try statement.run()
        case .thisKey:
            let statement = s.deleteSlot
            defer { statement.reset() }
            try statement.bind(1, int64: slot)
            try statement.run()
            // Keep the spill invariant: a spilled key of this slot moves into it.
            let spilled = s.firstSpillOfSlot
            defer { spilled.reset() }
            try spilled.bind(1, int64: slot)
            guard try spilled.step() else { return }
            let moved = (key: spilled.text(0), value: spilled.blob(1), seq: spilled.int64(2))
            spilled.reset()
            let remove = s.deleteSpill
            defer { remove.reset() }
            try remove.bind(1, text: moved.key)
            try remove.run()
            try writeRow(s.insertSlot, slot: slot, key: moved.key, value: moved.value, seq: moved.seq)
        }
    }

    private func insertOutcome(_ s: Statements, _ outcome: WriteOutcome) throws {
        precondition(outcome.seq <= UInt64(Int64.max), "seq \(outcome.seq) does not fit SQLite's INTEGER")
        let statement = s.insertOutcome
        defer { statement.reset() }
        try statement.bind(1, int64: Int64(outcome.seq))
        try statement.bind(2, int64: Int64(bitPattern: outcome.request.client))
        try statement.bind(3, int64: Int64(bitPattern: outcome.request.seq))
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

    /// The connection, and whether it is inside the transaction converting an old layout.
    private static func openConnection(path: String, cacheKiB: Int) throws -> (OpaquePointer, migrating: Bool) {
        var handle: OpaquePointer?
        // NOMUTEX: SQLite's own per-connection mutex is redundant, since one thread at a time uses the store.
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let db = handle else {
            let error = StorageError.sqlite(rc, handle, "opening \(path)")
            sqlite3_close_v2(handle)
            throw error
        }
        var migrating = false
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
            let pageSize = Int(try queryText(db, "PRAGMA page_size")) ?? newPageSize
            _ = try queryText(db, "PRAGMA journal_size_limit=\(walAutocheckpointPages * pageSize)")
            migrating = try migrateLayout(db)
            // Creating a table that exists takes no write lock, so opening a second connection
            // (a reader) on a live database does not contend with the writer.
            try execute(db, """
                CREATE TABLE IF NOT EXISTS kv(id INTEGER PRIMARY KEY, key TEXT NOT NULL, value BLOB NOT NULL, seq INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS kv_spill(key TEXT PRIMARY KEY, id INTEGER NOT NULL, value BLOB NOT NULL, seq INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS kv_spill_slot_key ON kv_spill(id, key);
                CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS outcomes(seq INTEGER PRIMARY KEY, client INTEGER NOT NULL,
                    request INTEGER NOT NULL, kind INTEGER NOT NULL, old BLOB);
                """)
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
        return (db, migrating)
    }

    /// The old layout's table while a conversion is under way.
    static let oldLayoutTable = "kv_without_rowid"

    /// Converting a database of the old layout (`kv ... WITHOUT ROWID`) is one transaction: this
    /// begins it and renames the old table; `openConnection` then creates the new tables inside
    /// it, and `finishMigration` (once the statements are prepared) copies the rows, drops the old
    /// table and commits. A crash anywhere before that commit leaves the old layout whole. Returns
    /// true when the transaction is open. The check is repeated under the write lock, since two
    /// connections may open the file at once.
    private static func migrateLayout(_ db: OpaquePointer) throws -> Bool {
        func isOldLayout() throws -> Bool {
            let statement = try Statement(db: db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'kv'")
            defer { statement.finalize() }
            return try statement.step() && statement.text(0).uppercased().contains("WITHOUT ROWID")
        }
        guard try isOldLayout() else { return false }
        try execute(db, "BEGIN IMMEDIATE")
        do {
            guard try isOldLayout() else {
                try execute(db, "COMMIT")
                return false
            }
            try execute(db, "ALTER TABLE kv RENAME TO \(oldLayoutTable)")
            return true
        } catch {
            if sqlite3_get_autocommit(db) == 0 { try? execute(db, "ROLLBACK") }
            throw error
        }
    }

    /// Ends the conversion `migrateLayout` began: every old row into its slot, the old table
    /// dropped, then COMMIT.
    private func finishMigration() throws {
        let s = try live()
        guard let db else { return }
        do {
            let rows = try Statement(db: db, sql: "SELECT key, value, seq FROM \(Self.oldLayoutTable)")
            defer { rows.finalize() }
            while try rows.step() {
                try upsert(s, key: rows.text(0), value: rows.blob(1), seq: UInt64(bitPattern: rows.int64(2)))
            }
            rows.reset()
            try Self.execute(db, "DROP TABLE \(Self.oldLayoutTable)")
            try s.commit.run()
        } catch {
            if sqlite3_get_autocommit(db) == 0 { try? s.rollback.run() }
            throw error
        }
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
    let beginRead: Statement
    let commit: Statement
    let rollback: Statement
    let selectSlot: Statement
    let selectSlotKey: Statement
    let insertSlot: Statement
    let updateSlot: Statement
    let deleteSlot: Statement
    let selectSpill: Statement
    let upsertSpill: Statement
    let deleteSpill: Statement
    let firstSpillOfSlot: Statement
    let deleteAll: Statement
    let deleteAllSpill: Statement
    let countRows: Statement
    let scanSlots: Statement
    let scanSpillFirst: Statement
    let scanSpillAfter: Statement
    let allRowsByKey: Statement
    let selectMeta: Statement
    let upsertMeta: Statement
    let insertOutcome: Statement
    let pruneOutcomes: Statement
    let scanOutcomes: Statement
    let deleteAllOutcomes: Statement

    init(db: OpaquePointer) throws {
        begin = try Statement(db: db, sql: "BEGIN IMMEDIATE")
        beginRead = try Statement(db: db, sql: "BEGIN DEFERRED")
        commit = try Statement(db: db, sql: "COMMIT")
        rollback = try Statement(db: db, sql: "ROLLBACK")
        selectSlot = try Statement(db: db, sql: "SELECT key, value FROM kv WHERE id = ?1")
        selectSlotKey = try Statement(db: db, sql: "SELECT key FROM kv WHERE id = ?1")
        insertSlot = try Statement(db: db, sql: "INSERT INTO kv(id, key, value, seq) VALUES (?1, ?2, ?3, ?4)")
        updateSlot = try Statement(db: db, sql: "UPDATE kv SET value = ?3, seq = ?4 WHERE id = ?1 AND key = ?2")
        deleteSlot = try Statement(db: db, sql: "DELETE FROM kv WHERE id = ?1")
        selectSpill = try Statement(db: db, sql: "SELECT value FROM kv_spill WHERE key = ?1")
        upsertSpill = try Statement(db: db, sql: """
            INSERT INTO kv_spill(id, key, value, seq) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT(key) DO UPDATE SET value = excluded.value, seq = excluded.seq
            """)
        deleteSpill = try Statement(db: db, sql: "DELETE FROM kv_spill WHERE key = ?1")
        firstSpillOfSlot = try Statement(db: db, sql: "SELECT key, value, seq FROM kv_spill WHERE id = ?1 ORDER BY key LIMIT 1")
        deleteAll = try Statement(db: db, sql: "DELETE FROM kv")
        deleteAllSpill = try Statement(db: db, sql: "DELETE FROM kv_spill")
        countRows = try Statement(db: db, sql: "SELECT (SELECT count(*) FROM kv) + (SELECT count(*) FROM kv_spill)")
        scanSlots = try Statement(db: db, sql: "SELECT id, key, value FROM kv WHERE id > ?1 ORDER BY id LIMIT ?2")
        scanSpillFirst = try Statement(db: db, sql: "SELECT key, value FROM kv_spill ORDER BY key LIMIT ?1")
        scanSpillAfter = try Statement(db: db, sql: "SELECT key, value FROM kv_spill WHERE key > ?1 ORDER BY key LIMIT ?2")
        allRowsByKey = try Statement(db: db, sql: """
            SELECT key, value FROM (SELECT key, value FROM kv UNION ALL SELECT key, value FROM kv_spill)
            ORDER BY key LIMIT ?1
            """)
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
        for statement in [begin, beginRead, commit, rollback, selectSlot, selectSlotKey, insertSlot, updateSlot, deleteSlot,
                          selectSpill, upsertSpill, deleteSpill, firstSpillOfSlot, deleteAll, deleteAllSpill, countRows,
                          scanSlots, scanSpillFirst, scanSpillAfter, allRowsByKey, selectMeta, upsertMeta, insertOutcome,
                          pruneOutcomes, scanOutcomes, deleteAllOutcomes] {
            statement.finalize()
        }
    }
}

import ChainCore
import CSQLite

/// Reads: single rows, `meta`, counts, paged scans, and the read transactions that group them.
extension Store {
    /// Starts one read transaction: every read until `endSnapshot()` sees the same committed
    /// state, however much another connection commits meanwhile (WAL keeps the old pages). State
    /// transfer pages through a whole database this way and gets one consistent snapshot.
    public func beginSnapshot() throws {
        try live()[.beginRead].run()
        // A deferred transaction takes its snapshot at the first read: take it now.
        _ = try lastSeq()
    }

    public func endSnapshot() throws {
        try live()[.commit].run()
    }

    /// Starts a read transaction whose snapshot is taken at the first read after it. A run of
    /// gets inside one transaction costs one pair of WAL-index locks (`fcntl` calls) instead of a
    /// pair per get; the caller ends it with `endRead()` before it needs to see later commits.
    /// Not for a connection that also uses `beginSnapshot` (both end with the same COMMIT).
    public func beginRead() throws {
        let s = try live()
        // A transaction left open by a failed end would make BEGIN fail on every later read and
        // pin the WAL: drop it first (a read transaction has nothing to lose).
        if sqlite3_get_autocommit(db!) == 0 { try s[.rollback].run() }
        try s[.beginRead].run()
    }

    /// Ends the transaction of `beginRead()`; does nothing when none is open. If COMMIT fails,
    /// the transaction is rolled back before the error is thrown, so it never stays open.
    public func endRead() throws {
        let s = try live()
        guard sqlite3_get_autocommit(db!) == 0 else { return }
        do {
            try s[.commit].run()
        } catch {
            if sqlite3_get_autocommit(db!) == 0 { try? s[.rollback].run() }
            throw error
        }
    }

    public func get(_ key: String) throws -> [UInt8]? {
        try getVersioned(key)?.value
    }

    /// The key's value with its version: the seq of the update that last set it (for rows of an
    /// old-format snapshot, the snapshot's point).
    public func getVersioned(_ key: String) throws -> VersionedValue? {
        let s = try live()
        let statement = s[.selectSlot]
        defer { statement.reset() }
        try statement.bind(1, int64: slotOf(key))
        guard try statement.step() else { return nil }  // an empty slot: no such key anywhere
        if statement.textEquals(0, key) {
            return VersionedValue(statement.blob(1), version: UInt64(bitPattern: statement.int64(2)))
        }
        let spill = s[.selectSpill]
        defer { spill.reset() }
        try spill.bind(1, text: key)
        return try spill.step() ? VersionedValue(spill.blob(0), version: UInt64(bitPattern: spill.int64(1))) : nil
    }

    /// The highest sequence number applied (or set by `reset`); 0 for a new database.
    public func lastSeq() throws -> UInt64 {
        try readMeta(try live(), .lastSeq)
    }

    public func epoch() throws -> UInt64 {
        try readMeta(try live(), .epoch)
    }

    /// Whether the database replaced a damaged one and no snapshot has arrived since (`markNeedsTransfer`).
    public func needsTransfer() throws -> Bool {
        try readMeta(try live(), .needsTransfer) != 0
    }

    public func count() throws -> Int {
        let statement = try live()[.countRows]
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
    ///
    /// `hashSlots`: only rows whose key's hash slot (`Store.hashSlot`: a key's `SlotMap` slot) is
    /// in that range. The filter runs inside SQLite, so a slot move that wants a few slots of a
    /// large file copies no other row's value.
    public func scan(after cursor: ScanCursor, limit: Int, byteLimit: Int, hashSlots: ClosedRange<Int> = Store.allHashSlots) throws -> ScanPage {
        precondition(limit > 0, "scan limit must be positive")
        precondition(byteLimit > 0, "scan byteLimit must be positive")
        precondition(Store.allHashSlots.contains(hashSlots.lowerBound) && Store.allHashSlots.contains(hashSlots.upperBound),
                     "hash slots are 0...4095")
        let s = try live()
        /// Binds the slot range of every scan statement (?3...?4) and its limit (?2).
        func bindCommon(_ statement: Statement) throws {
            try statement.bind(2, int64: Int64(limit))
            try statement.bind(3, int64: Int64(hashSlots.lowerBound))
            try statement.bind(4, int64: Int64(hashSlots.upperBound))
        }
        var rows: [ScanPage.Row] = []
        var bytes = 0
        var next = cursor
        if case .spill = cursor.position {} else {
            let statement = s[.scanSlots]
            defer { statement.reset() }
            if case .slot(let id) = cursor.position {
                try statement.bind(1, int64: id)
            } else {
                try statement.bind(1, int64: -1)  // slots are never negative
            }
            try bindCommon(statement)
            while try statement.step() {
                let row = (key: statement.text(1), value: statement.blob(2), version: UInt64(bitPattern: statement.int64(3)))
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
            statement = s[.scanSpillAfter]
            try statement.bind(1, text: key)
        } else {
            statement = s[.scanSpillFirst]
        }
        try bindCommon(statement)
        defer { statement.reset() }
        while try statement.step() {
            let row = (key: statement.text(0), value: statement.blob(1), version: UInt64(bitPattern: statement.int64(2)))
            rows.append(row)
            next = ScanCursor(position: .spill(row.key))
            bytes += row.key.utf8.count + row.value.count
            if bytes >= byteLimit { break }
        }
        return ScanPage(rows: rows, next: next)
    }

    /// Every hash slot: a key's is the low 12 bits of its row id (`KeySlot`, FNV-1a-64 like
    /// `SlotMap.slot`, whose 4096 slots are the hash modulo 4096).
    public static let allHashSlots = 0...4095

    /// The hash slot of a stored row id.
    public static func hashSlot(ofRowID id: Int64) -> Int { Int(id & 4095) }

    /// All rows in key order, at most `limit` of them (for tests and replica comparison).
    public func allRows(limit: Int) throws -> [(key: String, value: [UInt8])] {
        precondition(limit >= 0, "allRows limit must not be negative")
        let statement = try live()[.allRowsByKey]
        defer { statement.reset() }
        try statement.bind(1, int64: Int64(limit))
        var rows: [(key: String, value: [UInt8])] = []
        while try statement.step() {
            rows.append((key: statement.text(0), value: statement.blob(1)))
        }
        return rows
    }
}

import ChainCore
import CSQLite

/// Reads in key order, through the key index `kv_key` (`setKeyIndex`).
extension Store {
    /// The index that keeps `kv`'s keys in byte order for range reads. `kv_spill` (collisions)
    /// is ordered by its primary key already.
    static let keyIndexName = "kv_key"

    /// Creates the key index (on: built from the rows already stored, in one transaction) or
    /// drops it (off: writes then skip its upkeep, and range reads are refused by the server).
    /// Returns whether it changed anything.
    @discardableResult
    public func setKeyIndex(_ on: Bool) throws -> Bool {
        let s = try live()
        let had = try hasKeyIndex()
        guard had != on else { return false }
        let sql = on ? "CREATE INDEX IF NOT EXISTS \(Self.keyIndexName) ON kv(key)" : "DROP INDEX IF EXISTS \(Self.keyIndexName)"
        try inTransaction(s) { try Self.execute(db!, sql) }
        return true
    }

    /// Whether the key index exists in the file.
    public func hasKeyIndex() throws -> Bool {
        _ = try live()
        return try Self.schemaHas(db!, "index", named: Self.keyIndexName)
    }

    /// The first rows of `range` in byte order: at most `limit`, stopping once the summed key and
    /// value bytes reach `byteLimit` (at least one row if any is in the range). `complete`: no
    /// stored row of the range is left out. Without the key index it is correct but reads and
    /// sorts the whole table, so the server refuses range reads then.
    public func rows(in range: KeyRange, limit: Int, byteLimit: Int) throws -> (rows: [RangeRow], complete: Bool) {
        precondition(limit > 0 && byteLimit > 0, "range read bounds must be positive")
        guard !range.isEmpty else { return ([], true) }
        let statement = try live()[.scanByKey]
        defer { statement.reset() }
        try statement.bind(1, textBytes: range.lower)
        // No upper bound: 0xFF, which no UTF-8 key holds, so every key sorts before it.
        try statement.bind(2, textBytes: range.upper ?? [0xFF])
        try statement.bind(3, int64: Int64(limit))
        var rows: [RangeRow] = []
        var bytes = 0
        while try statement.step() {
            let row = RangeRow(key: statement.text(0),
                               value: VersionedValue(statement.blob(1), version: UInt64(bitPattern: statement.int64(2))))
            rows.append(row)
            bytes += row.key.utf8.count + row.value.value.count
            if bytes >= byteLimit { return (rows, false) }
        }
        return (rows, rows.count < limit)
    }
}

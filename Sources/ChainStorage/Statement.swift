import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SQLITE_TRANSIENT is a function-pointer-cast macro that Swift does not import. It tells SQLite
/// to copy bound bytes before the bind call returns, which is required for Swift Strings and
/// Arrays: their bridged pointers are only valid during the call (SQLITE_STATIC here was seen to
/// cause a heap-use-after-free in sqlite3VdbeExec under ASan).
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
/// SQLITE_STATIC (a null destructor): SQLite uses the bound bytes where they are, until the
/// binding is cleared. Only `Statement.run(borrowingText:at:blob:at:)` binds with it.
let sqliteStatic: sqlite3_destructor_type? = nil

/// One prepared statement, compiled once when the store opens and reused for every call.
///
/// Callers bind, step and then `reset()` (normally in a `defer`), so a statement never holds a
/// read snapshot or stale bindings between uses. Not thread-safe: owned by one `Store`.
final class Statement {
    private let db: OpaquePointer
    private var handle: OpaquePointer?
    let sql: String

    init(db: OpaquePointer, sql: String) throws {
        self.db = db
        self.sql = sql
        var handle: OpaquePointer?
        // PERSISTENT: these statements live as long as the connection, so SQLite may keep them
        // out of its short-lived lookaside memory.
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard rc == SQLITE_OK, let handle else {
            sqlite3_finalize(handle)
            throw StorageError.sqlite(rc, db, "preparing \(sql)")
        }
        self.handle = handle
    }

    deinit {
        finalize()
    }

    func finalize() {
        if let handle {
            sqlite3_finalize(handle)
        }
        handle = nil
    }

    private var liveHandle: OpaquePointer {
        guard let handle else {
            preconditionFailure("statement used after finalize: \(sql)")
        }
        return handle
    }

    // MARK: Binding (indexes are 1-based, as in SQLite)

    func bind(_ index: Int32, int64 value: Int64) throws {
        try check(sqlite3_bind_int64(liveHandle, index, value), "binding parameter \(index)")
    }

    func bind(_ index: Int32, text value: String) throws {
        var value = value  // `withUTF8` is mutating: it makes a (rare) non-contiguous string contiguous
        try value.withUTF8 { try bindText(index, UnsafeRawBufferPointer($0), sqliteTransient) }
    }

    /// Binds bytes as TEXT without checking they are UTF-8: a range bound (`KeyRange`) need not
    /// be, and the BINARY collation compares TEXT byte by byte.
    func bind(_ index: Int32, textBytes value: [UInt8]) throws {
        try value.withUnsafeBytes { try bindText(index, $0, sqliteTransient) }
    }

    func bind(_ index: Int32, blob value: [UInt8]) throws {
        try value.withUnsafeBytes { try bindBlob(index, $0, sqliteTransient) }
    }

    /// Binds `text` as TEXT at `textIndex` and `blob` as BLOB at `blobIndex` without SQLite
    /// copying them, runs the statement and unbinds it, all inside the closures that keep the
    /// bytes in place. SQLITE_TRANSIENT made SQLite copy a write's key and 1 KiB value once more
    /// on every replica (an allocation, a copy and a free each; issue 18, cut 21). SQLITE_STATIC
    /// is safe only so: SQLite reads a STATIC binding until it is cleared, so the step and
    /// `reset()` (which clears the bindings) both happen before the closures return. An earlier
    /// STATIC bind stepped after its closure had returned: a heap-use-after-free under ASan.
    func run(borrowingText text: String, at textIndex: Int32, blob: [UInt8], at blobIndex: Int32) throws {
        var text = text  // `withUTF8` is mutating: it makes a (rare) non-contiguous string contiguous
        try text.withUTF8 { utf8 in
            try blob.withUnsafeBytes { bytes in
                defer { reset() }
                try bindText(textIndex, UnsafeRawBufferPointer(utf8), sqliteStatic)
                try bindBlob(blobIndex, bytes, sqliteStatic)
                while try step() {}
            }
        }
    }

    /// Binds `bytes` as TEXT, copied by SQLite (`sqliteTransient`) or used in place until the
    /// binding is cleared (`sqliteStatic`). An explicit byte length keeps keys with embedded NULs
    /// intact, and an empty value must not be bound through a nil base address: that would bind
    /// NULL instead of ''.
    private func bindText(_ index: Int32, _ bytes: UnsafeRawBufferPointer, _ destructor: sqlite3_destructor_type?) throws {
        let handle = liveHandle
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            return try check(sqlite3_bind_text(handle, index, "", 0, sqliteTransient), "binding parameter \(index)")
        }
        precondition(bytes.count <= Int(Int32.max), "text parameter too large for SQLite")
        try check(sqlite3_bind_text(handle, index, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), destructor),
                  "binding parameter \(index)")
    }

    /// Binds `bytes` as a BLOB (`destructor` as for `bindText`). sqlite3_bind_blob with a nil
    /// pointer binds NULL, which `value BLOB NOT NULL` rejects; a zero-length zeroblob is the
    /// empty blob X''.
    private func bindBlob(_ index: Int32, _ bytes: UnsafeRawBufferPointer, _ destructor: sqlite3_destructor_type?) throws {
        let handle = liveHandle
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            return try check(sqlite3_bind_zeroblob(handle, index, 0), "binding parameter \(index)")
        }
        precondition(bytes.count <= Int(Int32.max), "blob parameter too large for SQLite")
        try check(sqlite3_bind_blob(handle, index, base, Int32(bytes.count), destructor), "binding parameter \(index)")
    }

    // MARK: Stepping

    /// Advances the statement: true when a row is available, false when it is done.
    func step() throws -> Bool {
        let rc = sqlite3_step(liveHandle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw StorageError.sqlite(rc, db, "executing \(sql)")
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws {
        defer { reset() }
        while try step() {}
    }

    /// Unbinds and rewinds the statement. The error sqlite3_reset may repeat was already
    /// reported by the failing step, so it is ignored here.
    func reset() {
        guard let handle else { return }
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: Columns (0-based; valid only until the next step or reset)

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(liveHandle, column)
    }

    func text(_ column: Int32) -> String {
        let handle = liveHandle
        // Text first, then bytes: that order gives the UTF-8 length without a conversion.
        guard let chars = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: chars, count: count), as: UTF8.self)
    }

    /// Whether the column's text is exactly `key`'s UTF-8 bytes, compared in place: a get that
    /// only checks its slot's key need not build a String.
    func textEquals(_ column: Int32, _ key: String) -> Bool {
        let handle = liveHandle
        let chars = sqlite3_column_text(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        var key = key
        return key.withUTF8 { utf8 in
            guard utf8.count == count else { return false }
            guard count > 0 else { return true }
            // No text pointer for a non-empty value: SQLite ran out of memory; never a match.
            guard let chars, let base = utf8.baseAddress else { return false }
            return memcmp(chars, base, count) == 0
        }
    }

    func blob(_ column: Int32) -> [UInt8] {
        let handle = liveHandle
        // An empty blob comes back as a nil pointer.
        guard let bytes = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// `context` is built only for an error: an eager string (the parameter's index formatted
    /// and appended) cost 1-2 % of a replica's committer thread per bind in the write profile.
    private func check(_ rc: Int32, _ context: @autoclosure () -> String) throws {
        guard rc == SQLITE_OK else {
            throw StorageError.sqlite(rc, db, "\(context()) of \(sql)")
        }
    }
}

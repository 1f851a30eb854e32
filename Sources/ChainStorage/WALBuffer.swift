import CSQLite
import CSQLiteWALBuffer

/// The VFS every store connection opens through (`Sources/CSQLiteWALBuffer/walbuffer.c`): SQLite's
/// default VFS, except that the frames a transaction appends to the WAL reach the operating
/// system as one write when the WAL is synced, instead of two writes per frame (its header, then
/// its page). Readers never see the difference: frames become visible to other connections only
/// after the writer synced and published them. What it saved: README, "Round 3, cut 6".
public enum WALBuffer {
    /// The VFS's name, for `sqlite3_open_v2`.
    static let vfsName = CHAINKV_WAL_BUFFER_VFS

    /// Registers the VFS (once per process; later calls return at once).
    static func register() throws {
        let rc = chainkv_wal_buffer_register()
        guard rc == SQLITE_OK else {
            throw StorageError(code: rc, message: "registering the \(vfsName) SQLite VFS failed (\(String(cString: sqlite3_errstr(rc))))")
        }
    }

    /// Writes to WAL files since the process started: those SQLite made (`sqlite`) and those
    /// that reached the operating system (`os`).
    public static var writes: (sqlite: Int64, os: Int64) {
        var os: Int64 = 0, sqlite: Int64 = 0
        chainkv_wal_buffer_counts(&os, &sqlite)
        return (sqlite, os)
    }
}

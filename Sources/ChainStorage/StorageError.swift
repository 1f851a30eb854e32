import CSQLite

/// A failed storage operation.
///
/// `code` is the SQLite result code (extended codes are enabled, so for example a NOT NULL
/// violation is 1299, SQLITE_CONSTRAINT_NOTNULL, rather than plain 19), or SQLITE_MISUSE for
/// misuse detected by this library (a closed store, a stopped committer, a sequence regression).
/// `message` says what was being done and carries `sqlite3_errmsg` where SQLite reported the failure.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "StorageError(code: \(code), \(message))"
    }

    /// Reads the connection's error message now: it is overwritten by the next call on `db`.
    static func sqlite(_ code: Int32, _ db: OpaquePointer?, _ context: String) -> StorageError {
        let detail: String
        if let db, let cMessage = sqlite3_errmsg(db) {
            detail = String(cString: cMessage)
        } else if let cMessage = sqlite3_errstr(code) {
            // No connection (for example sqlite3_open_v2 could not allocate one).
            detail = String(cString: cMessage)
        } else {
            detail = "unknown error"
        }
        return StorageError(code: code, message: "\(context): \(detail)")
    }

    static func misuse(_ message: String) -> StorageError {
        StorageError(code: SQLITE_MISUSE, message: message)
    }
}

/// What a failed storage operation says about the disk, from its SQLite primary result code.
public enum DiskFault: String, Sendable {
    /// SQLITE_FULL: the file system (or a quota) ran out of space. The failed transaction was
    /// rolled back; what was committed before is intact.
    case full = "disk full"
    /// SQLITE_IOERR_* (EIO from write, fsync, read, ...): after a failed fsync the kernel may
    /// already have dropped the dirty pages, so nothing written since the last good fsync can be
    /// trusted, including what a later fsync seems to confirm.
    case io = "I/O error"
    /// SQLITE_CORRUPT or SQLITE_NOTADB: the file's pages are not what SQLite wrote.
    case corrupt = "database file damaged"

    /// The fault `error` reports, or nil for any other failure (a constraint, misuse, busy).
    public init?(_ error: any Error) {
        guard let storageError = error as? StorageError else { return nil }
        switch storageError.code & 0xFF {
        case SQLITE_FULL: self = .full
        case SQLITE_IOERR: self = .io
        case SQLITE_CORRUPT, SQLITE_NOTADB: self = .corrupt
        default: return nil
        }
    }
}

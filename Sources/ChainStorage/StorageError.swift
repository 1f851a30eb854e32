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

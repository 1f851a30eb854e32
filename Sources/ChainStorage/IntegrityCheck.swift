import CSQLite
import FoundationEssentials

/// SQLite's `PRAGMA quick_check` of a database file, bounded in time: run by the server on each
/// database before it opens it (README, "Disk faults").
///
/// quick_check reads every page of the file (and the WAL's newer copies) and checks the B-trees'
/// structure: page headers, cell pointers and sizes, key order, overflow chains, the free list.
/// It does not compare index entries with their rows (`integrity_check` does, at several times the
/// cost), and no SQLite check sees a byte changed inside a value: the file has no checksums. What
/// it finds is a page that is not what SQLite wrote where the damage hits structure, which is most
/// of a 4 KiB page of small rows (headers, pointers, keys and record headers).
public enum IntegrityCheck {
    /// What the check found.
    public enum Outcome: Equatable, Sendable {
        /// No file, or quick_check answered "ok".
        case intact
        /// The problems quick_check listed (at most `problemsReported`), or why the file could not be read.
        case damaged(String)
        /// The budget ran out first: the file is too big to check in it (nothing wrong found so far).
        case unfinished
    }

    /// Problems quick_check reports at most (it stops after that many).
    public static let problemsReported = 10
    /// SQLITE_IOERR_READ, SQLITE_IOERR_SHORT_READ and SQLITE_IOERR_CORRUPTFS (sqlite3.h defines
    /// them as expressions, which Swift does not import).
    static let unreadableCodes: Set<Int32> = [SQLITE_IOERR | (1 << 8), SQLITE_IOERR | (2 << 8), SQLITE_IOERR | (33 << 8)]
    /// Virtual machine instructions between two looks at the clock.
    static let progressInterval: Int32 = 10_000

    /// Checks the database at `path` (with its WAL, if any) within `budget`. Throws for a failure
    /// that says nothing about the file's pages (it cannot be opened: permissions, a missing folder).
    public static func run(path: String, budget: Duration) throws -> Outcome {
        guard FileManager.default.fileExists(atPath: path) else { return .intact }
        var handle: OpaquePointer?
        // Not SQLITE_OPEN_CREATE: the check creates nothing. Read-write only so that SQLite can
        // rebuild the WAL index of a file left by a crash; quick_check itself writes nothing.
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        defer { sqlite3_close_v2(handle) }
        guard rc == SQLITE_OK, let db = handle else {
            return try verdict(StorageError.sqlite(rc, handle, "opening \(path)"))
        }
        sqlite3_extended_result_codes(db, 1)
        let deadline = Deadline(ContinuousClock.now + budget)
        let context = Unmanaged.passRetained(deadline)
        defer { context.release() }
        sqlite3_progress_handler(db, progressInterval, { context in
            Unmanaged<Deadline>.fromOpaque(context!).takeUnretainedValue().passed ? 1 : 0
        }, context.toOpaque())
        do {
            let statement = try Statement(db: db, sql: "PRAGMA quick_check(\(problemsReported))")
            defer { statement.finalize() }
            var problems: [String] = []
            while try statement.step() {
                let line = statement.text(0)
                if line != "ok" { problems.append(line) }
            }
            return problems.isEmpty ? .intact : .damaged(problems.joined(separator: "; "))
        } catch {
            if let storageError = error as? StorageError, storageError.code & 0xFF == SQLITE_INTERRUPT { return .unfinished }
            return try verdict(error)
        }
    }

    /// A failure while reading the file: damage if SQLite says its pages are wrong (SQLITE_CORRUPT,
    /// SQLITE_NOTADB) or the disk could not read them (SQLITE_IOERR_READ, _SHORT_READ, _CORRUPTFS).
    /// Anything else is thrown, a failed write included: opening may write the WAL index, and a
    /// full or failing disk there says nothing about the pages (torture seed 2003 moved a sound
    /// file aside when the shim's ENOSPC failed that write).
    private static func verdict(_ error: any Error) throws -> Outcome {
        let code = (error as? StorageError)?.code ?? 0
        let unreadable = unreadableCodes.contains(code)
        if DiskFault(error) == .corrupt || unreadable { return .damaged("\(error)") }
        throw error
    }
}

/// The check's time limit, read by SQLite's progress handler on the checking thread.
private final class Deadline: @unchecked Sendable {
    let at: ContinuousClock.Instant
    init(_ at: ContinuousClock.Instant) { self.at = at }
    var passed: Bool { ContinuousClock.now >= at }
}

import ChainCore
import ChainStorage
import ChainWire

/// The rows of some hash slots in a chain's database, a page at a time, read on a connection of
/// their own (off the server's loop). Rows are stored by key hash, not by slot, so this reads the
/// whole file; each page of at most `pageRows` rows is handed over filtered, and the next is read
/// only once `body` returns (memory stays at one page).
enum SlotRows {
    /// Rows read per page: the rows of one page are written (or deleted) at once, so this stays
    /// within a connection's `WriteTracker.perConnectionMax`.
    static let pageRows = 1000

    /// Calls `body` with each non-empty page of rows whose slot `wanted` holds; returns how many.
    static func forEachPage(path: String, wanted: (Int) -> Bool,
                            _ body: ([(key: String, value: [UInt8])]) async throws -> Void) async throws -> Int {
        precondition(pageRows < WriteTracker.perConnectionMax, "a page's writes fit one connection's limit")
        let store = try Store(path: path)
        defer { store.close() }
        var cursor = ScanCursor.start
        var count = 0
        while true {
            let page = try store.scan(after: cursor, limit: pageRows, byteLimit: WireLimits.transferChunkBytesMax)
            if page.rows.isEmpty { return count }
            cursor = page.next
            let rows = page.rows.filter { wanted(SlotMap.slot(of: $0.key)) }.map { (key: $0.key, value: $0.value) }
            if rows.isEmpty { continue }
            try await body(rows)
            count += rows.count
        }
    }
}

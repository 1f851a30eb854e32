import ChainCore
import ChainStorage
import ChainWire

/// The rows of some hash slots in a chain's database, a page at a time, read on a connection of
/// their own (off the server's loop). Rows are stored by key hash, whose low 12 bits are the slot,
/// so each range of slots is one pass over the file in which SQLite skips every other row before
/// its value is copied; each page of at most `pageRows` rows is handed over, and the next is read
/// only once `body` returns (memory stays at one page).
enum SlotRows {
    /// Rows read per page: the rows of one page are written (or deleted) at once, so this stays
    /// within a connection's `WriteTracker.perConnectionMax`.
    static let pageRows = 1000

    /// Calls `body` with each non-empty page of rows whose slot is in `slots`; returns how many.
    static func forEachPage(path: String, slots: [Int],
                            _ body: ([(key: String, value: [UInt8])]) async throws -> Void) async throws -> Int {
        precondition(pageRows < WriteTracker.perConnectionMax, "a page's writes fit one connection's limit")
        precondition(Store.allHashSlots.upperBound + 1 == SlotMap.slotCount, "the store's hash slots are the slot map's")
        let store = try Store(path: path)
        defer { store.close() }
        var count = 0
        for range in SlotMove.ranges(of: slots.sorted()) {
            var cursor = ScanCursor.start
            while true {
                let page = try store.scan(after: cursor, limit: pageRows, byteLimit: WireLimits.transferChunkBytesMax, hashSlots: range)
                if page.rows.isEmpty { break }
                cursor = page.next
                // Checked again in full: the slot map's hash is the one the row ids were made with.
                let rows = page.rows.filter { range.contains(SlotMap.slot(of: $0.key)) }.map { (key: $0.key, value: $0.value) }
                assert(rows.count == page.rows.count, "a row's id and its key's slot agree")
                if rows.isEmpty { continue }
                try await body(rows)
                count += rows.count
            }
        }
        return count
    }
}

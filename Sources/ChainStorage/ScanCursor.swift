/// Where a paged `Store.scan` goes on. A scan visits the `kv` table in slot order, then the few
/// rows of `kv_spill` in key order; the order is stable within one read transaction, which is
/// all a state transfer needs (the receiver stores each row under its own slot).
public struct ScanCursor: Sendable, Equatable {
    enum Position: Sendable, Equatable {
        case slot(Int64)
        case spill(String)
    }

    let position: Position?

    /// Before the first row.
    public static let start = ScanCursor(position: nil)
}

/// One page of a scan: its rows, and the cursor to pass for the next page. An empty page is the
/// end of the scan.
public struct ScanPage: Sendable {
    /// A row with its version (the seq of the update that last set it).
    public typealias Row = (key: String, value: [UInt8], version: UInt64)
    public let rows: [Row]
    public let next: ScanCursor
}

import ChainCore
import NIOCore

/// The client writes this server has taken and not yet answered, counted once: per connection
/// (for the per-connection limit) and per request (for the latency and status metrics when the
/// reply goes out). The core tracks the same writes by sequence number for the protocol; this
/// tracks them by client for the shell.
struct WriteTracker {
    /// Writes one connection may have in flight. The core bounds writes in flight for the whole
    /// server (`CoreLimits.inflightMax`, 4096); this keeps a single connection from taking them
    /// all, so other clients' writes still get in. Reads are answered at once and hold nothing.
    static let perConnectionMax = 1024

    struct Pending {
        var type: String
        var since: NIODeadline
        /// The request was a versioned kind: its reply carries the version.
        var versioned = false
    }

    private var pending: [ClientRef: Pending] = [:]
    private var perConnection: [UInt64: Int] = [:]

    /// Takes a write; false when its connection is at `perConnectionMax` already.
    mutating func admit(_ ref: ClientRef, type: String, now: NIODeadline, versioned: Bool = false) -> Bool {
        guard pending[ref] == nil else { return true }  // a request id reused on one connection counts once
        guard perConnection[ref.connection, default: 0] < Self.perConnectionMax else { return false }
        perConnection[ref.connection, default: 0] += 1
        pending[ref] = Pending(type: type, since: now, versioned: versioned)
        return true
    }

    /// The write answered (or abandoned); what was recorded when it was taken.
    mutating func finish(_ ref: ClientRef) -> Pending? {
        guard let entry = pending.removeValue(forKey: ref) else { return nil }
        if let n = perConnection[ref.connection] { perConnection[ref.connection] = n > 1 ? n - 1 : nil }
        return entry
    }

    /// The connection closed: its writes still commit and are answered into the void, but no
    /// longer count against a connection.
    mutating func closed(connection: UInt64) {
        perConnection[connection] = nil
    }

    func inFlight(connection: UInt64) -> Int { perConnection[connection, default: 0] }
}

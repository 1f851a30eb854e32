/// Error codes in `Message.error`. Stable on the wire: append only.
public enum ErrorCode: UInt16, Sendable, Equatable, CaseIterable {
    /// This server is not the head; ask GetHead and retry there.
    case notHead = 1
    /// The chain changed while the write was in flight; it may or may not have committed. Retry.
    case chainChanged = 2
    /// Too many requests in flight; retry later.
    case overloaded = 3
    case keyTooLarge = 4
    case valueTooLarge = 5
    case badRequest = 6
    /// No chain is configured yet, or this server cannot serve (e.g. lost ZooKeeper).
    case unavailable = 7
    case internalError = 8
    case unsupportedVersion = 9
    /// A peer message came from a node or epoch this server does not accept.
    case refused = 10
    /// The connection did not authenticate (no or wrong shared secret); the server closes it.
    case unauthorized = 11
    /// A connection limit was reached (connections per server, idle time, time to finish a
    /// frame); the text names it. The server closes the connection.
    case limitReached = 12
    /// A retried put was applied earlier (before a restart of the server answering, or before it
    /// got the write in a snapshot), but its old value was too large to keep. Not applied again.
    case oldValueNotKept = 13
}

extension ErrorCode {
    /// The request itself is at fault (too large, malformed): sending it again cannot succeed.
    /// The paper API answers these with its "bad argument" status.
    public var isRequestFault: Bool {
        self == .keyTooLarge || self == .valueTooLarge || self == .badRequest
    }

    /// The chain could not take the request now but may a moment later (a head change, a full
    /// pipeline, no chain yet): clients retry these. A write that ends on one after an earlier
    /// attempt may have applied is reported as a chain failure (the paper's status -2).
    public var isTransient: Bool {
        switch self {
        case .notHead, .chainChanged, .overloaded, .unavailable, .oldValueNotKept: return true
        default: return false
        }
    }

    /// The name in metrics labels and logs: "not_head", "chain_changed", ...
    public var label: String {
        String(describing: self).reduce(into: "") { name, c in
            if c.isUppercase { name += "_" + c.lowercased() } else { name.append(c) }
        }
    }
}

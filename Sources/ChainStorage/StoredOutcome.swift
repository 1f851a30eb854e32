/// The reply a client write got, stored in the same transaction as the write: a retry of the
/// write that reaches this replica after a restart, or after it got the write in a snapshot, is
/// answered from it instead of being applied a second time.
public struct StoredOutcome: Sendable, Equatable {
    /// Stable on disk: append only.
    public enum Kind: UInt8, Sendable, CaseIterable {
        case putNewKey = 0
        /// The old value is in `old`.
        case putOldValue = 1
        /// The key existed, but its old value was too large to keep.
        case putOldValueNotKept = 2
        case deleteExisted = 3
        case deleteAbsent = 4
    }

    /// The write's sequence number.
    public var seq: UInt64
    /// The request id the client chose (client id and the client's own counter).
    public var client: UInt64
    public var request: UInt64
    public var kind: Kind
    /// The old value, for `putOldValue` only.
    public var old: [UInt8]?

    public init(seq: UInt64, client: UInt64, request: UInt64, kind: Kind, old: [UInt8]? = nil) {
        precondition((kind == .putOldValue) == (old != nil), "only a put that kept its old value carries one")
        self.seq = seq
        self.client = client
        self.request = request
        self.kind = kind
        self.old = old
    }

    /// Bytes it takes in memory or on the wire, for chunk limits.
    public var size: Int { 32 + (old?.count ?? 0) }
}

/// The reply a client write got, kept with the write on every replica (in the same transaction)
/// and sent with a snapshot: a retry that reaches a replica after it restarted, became head, or
/// got the write in a snapshot is answered from it instead of being applied a second time.
/// One type for the core, the disk and the wire.
public struct WriteOutcome: Equatable, Sendable {
    /// Stable on disk and on the wire: append only.
    public enum Kind: UInt8, Sendable, CaseIterable {
        case putNewKey = 0
        /// The old value is in `old`.
        case putOldValue = 1
        /// The key existed, but its old value was too large to keep (`CoreLimits.outcomeValueKeptMax`).
        case putOldValueNotKept = 2
        case deleteExisted = 3
        case deleteAbsent = 4
    }

    /// The write's sequence number.
    public let seq: UInt64
    public let request: RequestID
    public let kind: Kind
    /// The old value, for `putOldValue` only.
    public let old: [UInt8]?

    /// nil when `old` does not match `kind` (only `putOldValue` carries one): for outcomes read
    /// from disk or the network, which must not crash the server when damaged.
    public init?(seq: UInt64, request: RequestID, kind: Kind, old: [UInt8]?) {
        guard (kind == .putOldValue) == (old != nil) else { return nil }
        self.seq = seq
        self.request = request
        self.kind = kind
        self.old = old
    }

    /// What is kept of `reply`, the reply of the applied write `seq` made for `request`.
    public init(reply: Reply, seq: UInt64, request: RequestID) {
        var old: [UInt8]?
        switch reply {
        case .put(old: nil): kind = .putNewKey
        case .put(old: let value?) where value.count <= CoreLimits.outcomeValueKeptMax:
            kind = .putOldValue
            old = value
        case .put: kind = .putOldValueNotKept
        case .delete(existed: true): kind = .deleteExisted
        case .delete(existed: false): kind = .deleteAbsent
        case .value, .error:
            preconditionFailure("only the outcome of an applied write is kept, not \(reply)")
        }
        self.seq = seq
        self.request = request
        self.old = old
    }

    /// The reply a retry of the write gets.
    public var reply: Reply {
        switch kind {
        case .putNewKey: return .put(old: nil)
        case .putOldValue: return .put(old: old)
        case .putOldValueNotKept: return .error(.oldValueNotKept)
        case .deleteExisted: return .delete(existed: true)
        case .deleteAbsent: return .delete(existed: false)
        }
    }

    /// Bytes it takes in memory or on the wire, for chunk limits.
    public var size: Int { 32 + (old?.count ?? 0) }
}

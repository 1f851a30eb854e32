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
        /// A conditional write whose condition failed: the key's version then is in `old`, as 8
        /// bytes big-endian (so disk rows and the snapshot's outcome encoding keep their layout).
        case conditionFailed = 5

        /// Whether an outcome of this kind carries bytes in `old` (on disk and on the wire).
        public var carriesOld: Bool { oldBytes.carried }

        /// Whether an outcome of this kind carries bytes in `old`, and how many (nil: any number).
        var oldBytes: (carried: Bool, count: Int?) {
            switch self {
            case .putOldValue: return (true, nil)
            case .conditionFailed: return (true, 8)
            case .putNewKey, .putOldValueNotKept, .deleteExisted, .deleteAbsent: return (false, nil)
            }
        }
    }

    /// The write's sequence number.
    public let seq: UInt64
    public let request: RequestID
    public let kind: Kind
    /// The old value for `putOldValue`; the current version's 8 bytes for `conditionFailed`.
    public let old: [UInt8]?

    /// nil when `old` does not match `kind` (only `putOldValue` and `conditionFailed` carry one):
    /// for outcomes read from disk or the network, which must not crash the server when damaged.
    public init?(seq: UInt64, request: RequestID, kind: Kind, old: [UInt8]?) {
        let expected = kind.oldBytes
        guard expected.carried == (old != nil) else { return nil }
        if let count = expected.count, old?.count != count { return nil }
        self.seq = seq
        self.request = request
        self.kind = kind
        self.old = old
    }

    /// What is kept of `reply`, the reply of the applied write `seq` made for `request`.
    public init(reply: Reply, seq: UInt64, request: RequestID) {
        var old: [UInt8]?
        switch reply {
        case .put(old: nil, _): kind = .putNewKey
        case .put(old: let value?, _) where value.count <= CoreLimits.outcomeValueKeptMax:
            kind = .putOldValue
            old = value
        case .put: kind = .putOldValueNotKept
        case .delete(existed: true, _): kind = .deleteExisted
        case .delete(existed: false, _): kind = .deleteAbsent
        case .conditionFailed(let current):
            kind = .conditionFailed
            old = (0..<8).map { UInt8(truncatingIfNeeded: current >> (56 - 8 * $0)) }
        case .value, .error:
            preconditionFailure("only the outcome of an applied write is kept, not \(reply)")
        }
        self.seq = seq
        self.request = request
        self.old = old
    }

    /// The reply a retry of the write gets: the first one's, with the version it created.
    public var reply: Reply {
        switch kind {
        case .putNewKey: return .put(old: nil, version: seq)
        case .putOldValue: return .put(old: old, version: seq)
        case .putOldValueNotKept: return .error(.oldValueNotKept)
        case .deleteExisted: return .delete(existed: true, version: seq)
        case .deleteAbsent: return .delete(existed: false, version: seq)
        case .conditionFailed: return .conditionFailed(current: current ?? 0)
        }
    }

    /// For `conditionFailed`: the key's version the condition was checked against.
    public var current: UInt64? {
        guard kind == .conditionFailed, let old, old.count == 8 else { return nil }
        return old.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Bytes it takes in memory or on the wire, for chunk limits.
    public var size: Int { 32 + (old?.count ?? 0) }
}

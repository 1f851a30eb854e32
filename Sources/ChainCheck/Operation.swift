/// One client operation of a recorded history, on one key of a key-value store.
///
/// `invoke` and `complete` are times on one monotonic clock (any unit). An operation whose outcome
/// is unknown (a timeout, a lost connection) has `complete == nil`: it may have taken effect at
/// any time after its invocation, or never.
public struct Operation: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// A read that returned `value` (nil: the key did not exist).
        case get(value: [UInt8]?)
        /// A write of `value` that reported `old` (nil: the key was new).
        case put(value: [UInt8], old: [UInt8]?)
        /// A delete that reported whether the key existed.
        case delete(existed: Bool)
        /// A write whose outcome is unknown: only its effect matters, if it happened.
        case putUnknown(value: [UInt8])
        case deleteUnknown
    }

    public var id: Int
    public var client: Int
    public var key: String
    public var kind: Kind
    public var invoke: UInt64
    public var complete: UInt64?
    /// For a `get` that is one key's observation in a scan page (`ScanPage`): the page's number,
    /// shared by every key the page covered. The per-key check needs nothing more (a scan's key is
    /// a read in the page's interval); the number lets `ScanSnapshots` find a page's other keys.
    public var page: Int?

    public init(id: Int, client: Int, key: String, kind: Kind, invoke: UInt64, complete: UInt64?, page: Int? = nil) {
        precondition(complete.map { $0 >= invoke } ?? true, "an operation completes after it is invoked")
        precondition(page == nil || { if case .get = kind { return true } else { return false } }(),
                     "only a read belongs to a scan page")
        self.id = id
        self.client = client
        self.key = key
        self.kind = kind
        self.invoke = invoke
        self.complete = complete
        self.page = page
    }
}

extension Operation {
    /// Whether the client saw this operation's result: a get, put or delete that completed.
    public var outcomeIsKnown: Bool {
        guard complete != nil else { return false }
        switch kind {
        case .get, .put, .delete: return true
        case .putUnknown, .deleteUnknown: return false
        }
    }

    /// The operation as the checker treats it. An operation with an unknown outcome keeps only its
    /// possible effect: a put or delete without a completion becomes `putUnknown`/`deleteUnknown`
    /// with `complete == nil` (it may take effect at any time after its invocation, or never),
    /// and a get without a completion is nil: it has no effect and observed nothing, so there is
    /// nothing to check.
    public var normalized: Operation? {
        if outcomeIsKnown { return self }
        var op = self
        op.complete = nil
        switch kind {
        case .get: return nil
        case .put(let value, _), .putUnknown(let value): op.kind = .putUnknown(value: value)
        case .delete, .deleteUnknown: op.kind = .deleteUnknown
        }
        return op
    }
}

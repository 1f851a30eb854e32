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

    public init(id: Int, client: Int, key: String, kind: Kind, invoke: UInt64, complete: UInt64?) {
        precondition(complete.map { $0 >= invoke } ?? true, "an operation completes after it is invoked")
        self.id = id
        self.client = client
        self.key = key
        self.kind = kind
        self.invoke = invoke
        self.complete = complete
    }
}

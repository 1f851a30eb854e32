/// A conditional put or delete as a client recorded it, and the operation the checker checks for
/// it. The condition is on a version; a client conditions on a version it read together with a
/// value, and since every write of a checked workload writes a value of its own, one version of a
/// key is one value of it. So:
///
/// - applied: the key held `expected` at the write's point (the version it was conditioned on),
///   so a put is a put that observed `expected` as its old value, and a delete one that observed
///   whether `expected` was a value (nil: the key was absent);
/// - failed: nothing changed, and the key was at the version the server reported: a read of that
///   version's value where the client knows it (the value a write made or a read returned with
///   that version; version 0: absent), else nothing to check (no effect, observation unknown);
/// - unknown (the reply was lost): it may have applied at any time after its invocation, or not
///   at all; the same as an unknown put or delete (the condition only narrows when it could).
public struct ConditionalWrite: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable {
        case applied
        case failed(current: CurrentValue)
        case unknown
    }

    public enum CurrentValue: Equatable, Sendable {
        /// The value of the version the failed condition reported (nil: absent).
        case known([UInt8]?)
        /// No write or read the client saw produced that version.
        case unknown
    }

    /// The value a put writes; nil for a delete.
    public var value: [UInt8]?
    /// The value the client read with the version it conditioned on (nil: absent, version 0).
    public var expected: [UInt8]?
    public var outcome: Outcome

    public init(value: [UInt8]?, expected: [UInt8]?, outcome: Outcome) {
        self.value = value
        self.expected = expected
        self.outcome = outcome
    }

    /// What the history records for it, or nil when it has nothing to check (a failed condition
    /// whose current value is unknown). A recorded `unknown` outcome is also recorded without a
    /// completion time.
    public var operation: Operation.Kind? {
        switch outcome {
        case .applied:
            if let value { return .put(value: value, old: expected) }
            return .delete(existed: expected != nil)
        case .failed(.known(let current)):
            return .get(value: current)
        case .failed(.unknown):
            return nil
        case .unknown:
            if let value { return .putUnknown(value: value) }
            return .deleteUnknown
        }
    }
}

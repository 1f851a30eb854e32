/// One durable update in replication order. `value == nil` means delete.
///
/// `seq` is the replication sequence number given by the head; a store applies updates in
/// strictly increasing `seq` order and remembers the highest one as `last_seq`.
public struct StoredUpdate: Sendable, Equatable {
    public var seq: UInt64
    public var key: String
    public var value: [UInt8]?
    /// The reply of the client request that made this write, if it carried a request id.
    public var outcome: StoredOutcome?

    public init(seq: UInt64, key: String, value: [UInt8]?, outcome: StoredOutcome? = nil) {
        precondition(outcome == nil || outcome?.seq == seq, "an outcome is stored with its own write")
        self.seq = seq
        self.key = key
        self.value = value
        self.outcome = outcome
    }
}

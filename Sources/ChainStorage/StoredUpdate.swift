import ChainCore

/// What a replica writes to disk for one update: the update in replication order (`value == nil`
/// deletes) and, for a client write with a request id, the reply it got (`WriteOutcome`), kept in
/// the same transaction.
///
/// `seq` is the replication sequence number given by the head; a store applies updates in
/// strictly increasing `seq` order and remembers the highest one as `last_seq`.
public struct StoredUpdate: Sendable, Equatable {
    public var update: Update
    public var outcome: WriteOutcome?

    public init(_ update: Update, outcome: WriteOutcome? = nil) {
        precondition(outcome == nil || outcome?.seq == update.seq, "an outcome is stored with its own write")
        self.update = update
        self.outcome = outcome
    }

    public init(seq: UInt64, key: String, value: [UInt8]?, outcome: WriteOutcome? = nil) {
        self.init(Update(seq: seq, key: key, value: value, request: outcome?.request), outcome: outcome)
    }

    public var seq: UInt64 { update.seq }
    public var key: String { update.key }
    public var value: [UInt8]? { update.value }
}

/// One write in replication order. `value == nil` deletes the key, unless `conditionFailed` is
/// set: then the update changes nothing.
///
/// `seq` is assigned by the head and grows by one per update across epochs, so every replica's
/// history is a prefix of its predecessor's and a gap or duplicate is visible from the number alone.
public struct Update: Equatable, Sendable {
    public var seq: UInt64
    public var key: String
    public var value: [UInt8]?
    /// The client request that made this write, replicated with it so that any later head can
    /// recognize a retry of it.
    public var request: RequestID?
    /// Set for a conditional write whose condition failed at the head: the key's version the head
    /// found. Such an update changes nothing (`value` is nil), but it takes a sequence number and
    /// goes down the chain like any write, so that its answer is given in sequence order once
    /// committed (never from uncommitted state), and every replica keeps its outcome for retries.
    public var conditionFailed: UInt64?

    public init(seq: UInt64, key: String, value: [UInt8]?, request: RequestID? = nil, conditionFailed: UInt64? = nil) {
        precondition(conditionFailed == nil || value == nil, "an update whose condition failed sets no value")
        self.seq = seq
        self.key = key
        self.value = value
        self.request = request
        self.conditionFailed = conditionFailed
    }

    /// Whether applying the update changes the key (false only when its condition failed).
    public var changesKey: Bool { conditionFailed == nil }

    /// Memory an update holds, for the bounds on buffered updates.
    public var size: Int { key.utf8.count + (value?.count ?? 0) + 64 }
}

/// Identifies one client write across retries: the client's random id and its own counter. The
/// head recognizes a retry by it and never applies a write twice. The same type on the wire, in
/// the core and on disk.
public struct RequestID: Hashable, Sendable {
    public var client: UInt64
    public var seq: UInt64

    public init(client: UInt64, seq: UInt64) {
        self.client = client
        self.seq = seq
    }
}

/// Where a client's reply goes: the shell's connection and the request id the client chose.
public struct ClientRef: Hashable, Sendable {
    public var connection: UInt64
    public var request: UInt64

    public init(connection: UInt64, request: UInt64) {
        self.connection = connection
        self.request = request
    }
}

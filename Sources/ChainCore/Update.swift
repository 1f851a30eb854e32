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
    /// Set for an update a slot move made, not a client (`MoveMark`): watches do not report it
    /// as a change of its key. A barrier changes no key (its `key` is empty, `value` nil).
    public var move: MoveMark?

    public init(seq: UInt64, key: String, value: [UInt8]?, request: RequestID? = nil, conditionFailed: UInt64? = nil,
                move: MoveMark? = nil) {
        precondition(conditionFailed == nil || value == nil, "an update whose condition failed sets no value")
        // A version is a sequence number, at most Int64.max (SQLite's INTEGER); the wire uses
        // UInt64.max after a failed condition's place to say "none, a move mark follows".
        precondition(conditionFailed.map { $0 <= UInt64(Int64.max) } ?? true, "a failed condition's version is a sequence number")
        precondition(conditionFailed == nil || move == nil, "a slot move's update has no condition")
        if case .barrier = move { precondition(key.isEmpty && value == nil && request == nil, "a barrier changes no key") }
        self.seq = seq
        self.key = key
        self.value = value
        self.request = request
        self.conditionFailed = conditionFailed
        self.move = move
    }

    /// Whether applying the update changes the key (false when its condition failed, and for a
    /// slot move's barrier).
    public var changesKey: Bool {
        if case .barrier = move { return false }
        return conditionFailed == nil
    }

    /// Whether the update is a client's change of its key: what a watcher is told of.
    public var isUserChange: Bool { changesKey && move == nil }

    /// The barrier, for a slot move's barrier.
    public var barrier: MoveBarrier? {
        if case .barrier(let barrier) = move { return barrier }
        return nil
    }

    /// Memory an update holds, for the bounds on buffered updates.
    public var size: Int { key.utf8.count + (value?.count ?? 0) + 64 + (barrier?.size ?? 0) }
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

/// One write in replication order. `value == nil` deletes the key.
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

    public init(seq: UInt64, key: String, value: [UInt8]?, request: RequestID? = nil) {
        self.seq = seq
        self.key = key
        self.value = value
        self.request = request
    }

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

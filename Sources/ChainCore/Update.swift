/// One write in replication order. `value == nil` deletes the key.
///
/// `seq` is assigned by the head and grows by one per update across epochs, so every replica's
/// history is a prefix of its predecessor's and a gap or duplicate is visible from the number alone.
public struct Update: Equatable, Sendable {
    public var seq: UInt64
    public var key: String
    public var value: [UInt8]?

    public init(seq: UInt64, key: String, value: [UInt8]?) {
        self.seq = seq
        self.key = key
        self.value = value
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

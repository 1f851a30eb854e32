/// A key that exists, with its version: the sequence number of the write that last set it, in
/// its chain. An absent key has no `VersionedValue` (its version is 0, which no write has).
public struct VersionedValue: Equatable, Sendable {
    public var value: [UInt8]
    public var version: UInt64

    public init(_ value: [UInt8], version: UInt64) {
        self.value = value
        self.version = version
    }
}

extension Optional where Wrapped == VersionedValue {
    /// The version a conditional write compares with: 0 for an absent key.
    public var version: UInt64 { self?.version ?? 0 }
}

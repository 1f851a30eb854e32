public import ChainCore
internal import ChainWire

/// What a versioned put or delete did.
public enum WriteResult: Equatable, Sendable {
    /// Applied: the version it created (its sequence number), and whether the key existed just
    /// before it. After a delete the key is absent, whose version is 0.
    case applied(version: UInt64, existed: Bool)
    /// The condition did not hold, so nothing was applied: the key's version at that point in
    /// sequence order (0: absent). A retry of the same call gets this same answer.
    case conditionFailed(current: UInt64)

    /// The version created, or nil when the condition failed.
    public var version: UInt64? {
        if case .applied(let version, _) = self { return version }
        return nil
    }
}

/// Versions and conditional writes (optimistic concurrency, like etcd's `mod_revision` compare
/// or ZooKeeper's `setData(path, data, version)`). Same guarantees as `get`, `put` and `delete`:
/// linearizable, and a write retried under one request id is applied at most once, every retry
/// getting the first outcome (a failed condition included).
extension ChainKVClient {
    /// The value of `key` with its version, or nil when it does not exist (version 0).
    public func getVersioned(_ key: String) async throws -> VersionedValue? {
        try check(key)
        switch try await execute(.getVersioned(key: key), key: key, idempotent: true) {
        case .versionedValue(let v): return v
        case let other: throw unexpected(other)
        }
    }

    /// Sets `key`, if `ifVersion` is nil or is the key's version (0: the key must not exist).
    /// Checked and applied atomically at the head, in sequence order.
    public func put(_ key: String, _ value: [UInt8], ifVersion: UInt64?) async throws -> WriteResult {
        try check(key)
        if let e = KeyValidation.check(value: value) { throw ChainKVError.invalidArgument(e.description) }
        let message = Message.putVersioned(key: key, value: value, request: newRequestID(), ifVersion: ifVersion)
        switch try await execute(message, key: key, idempotent: false) {
        case .putVersionedResult(let old, let version): return .applied(version: version, existed: old != nil)
        case .conditionFailed(let current): return .conditionFailed(current: current)
        case let other: throw unexpected(other)
        }
    }

    /// Deletes `key`, if `ifVersion` is nil or is the key's version (0: the key must not exist,
    /// and the delete then changes nothing but still takes a version).
    public func delete(_ key: String, ifVersion: UInt64?) async throws -> WriteResult {
        try check(key)
        let message = Message.deleteVersioned(key: key, request: newRequestID(), ifVersion: ifVersion)
        switch try await execute(message, key: key, idempotent: false) {
        case .deleteVersionedResult(let existed, let version): return .applied(version: version, existed: existed)
        case .conditionFailed(let current): return .conditionFailed(current: current)
        case let other: throw unexpected(other)
        }
    }
}

import ChainCore
import NIOCore

/// Versions and conditional writes: the versioned get, put and delete with their replies, and
/// the optional trailing fields older messages got for them (a forwarded update whose condition
/// failed; the rows' versions of a state-transfer chunk). Messages without them keep their bytes.
extension MessageCodec {
    static func encodeVersionsBody(_ message: Message, into b: inout ByteBuffer) {
        switch message {
        case .getVersioned(let key):
            writeKey(key, &b)
        case .putVersioned(let key, let value, let request, let ifVersion):
            writeKey(key, &b)
            writeValue(value, &b)
            writeRequest(request, &b)
            writeOptionalVersion(ifVersion, &b)
        case .deleteVersioned(let key, let request, let ifVersion):
            writeKey(key, &b)
            writeRequest(request, &b)
            writeOptionalVersion(ifVersion, &b)
        case .versionedValue(let versioned):
            writeOptionalValue(versioned?.value, &b)
            if let versioned { b.writeInteger(versioned.version) }
        case .putVersionedResult(let old, let version):
            writeOptionalValue(old, &b)
            b.writeInteger(version)
        case .deleteVersionedResult(let existed, let version):
            writeBool(existed, &b)
            b.writeInteger(version)
        case .conditionFailed(let current):
            b.writeInteger(current)
        default:
            preconditionFailure("\(message.kind) is not a versioned message")
        }
    }

    static func decodeVersionsBody(_ kind: Message.Kind, _ body: inout ByteBuffer) throws(WireError) -> Message {
        switch kind {
        case .getVersioned:
            return .getVersioned(key: try readKey(&body))
        case .putVersioned:
            let key = try readKey(&body)
            let value = try readValue(&body)
            let request = try readRequest(&body)
            return .putVersioned(key: key, value: value, request: request, ifVersion: try readOptionalVersion(&body))
        case .deleteVersioned:
            let key = try readKey(&body)
            let request = try readRequest(&body)
            return .deleteVersioned(key: key, request: request, ifVersion: try readOptionalVersion(&body))
        case .versionedValue:
            guard let value = try readOptionalValue(&body) else { return .versionedValue(nil) }
            return .versionedValue(VersionedValue(value, version: try readVersion(&body, "value version")))
        case .putVersionedResult:
            let old = try readOptionalValue(&body)
            return .putVersionedResult(old: old, version: try readVersion(&body, "put version"))
        case .deleteVersionedResult:
            let existed = try readBool(&body, "existed")
            return .deleteVersionedResult(existed: existed, version: try readVersion(&body, "delete version"))
        case .conditionFailed:
            return .conditionFailed(current: try readU64(&body, "current version"))
        default:
            preconditionFailure("\(kind) is not a versioned message")
        }
    }

    static func writeOptionalVersion(_ v: UInt64?, _ b: inout ByteBuffer) {
        writeBool(v != nil, &b)
        if let v { b.writeInteger(v) }
    }

    static func readOptionalVersion(_ b: inout ByteBuffer) throws(WireError) -> UInt64? {
        try readBool(&b, "if-version present") ? try readU64(&b, "if-version") : nil
    }

    /// The version of a write or of an existing key: a sequence number, never 0.
    static func readVersion(_ b: inout ByteBuffer, _ what: String) throws(WireError) -> UInt64 {
        let v = try readU64(&b, what)
        guard v > 0 else { throw .invalidField("\(what) 0 (versions start at 1)") }
        return v
    }

    /// A forward's optional trailing field: the version a failed condition found. Only an update
    /// that sets no value can carry it.
    static func readConditionFailed(_ b: inout ByteBuffer, value: [UInt8]?) throws(WireError) -> UInt64? {
        guard b.readableBytes > 0 else { return nil }
        let current = try readU64(&b, "condition-failed version")
        guard value == nil else { throw .invalidField("an update whose condition failed carries a value") }
        // A version is a sequence number (at most Int64.max); `noCondition` is left to the caller.
        guard current <= UInt64(Int64.max) || current == noCondition else {
            throw .invalidField("condition-failed version \(current) is not a sequence number")
        }
        return current
    }

    /// A state-transfer chunk's optional trailing field: one version per row, in row order, when
    /// every row has one (a sender sets all or none; with some missing, none is sent).
    static func writeRowVersions(_ rows: [Row], _ b: inout ByteBuffer) {
        let versions = rows.compactMap(\.version)
        guard !rows.isEmpty, versions.count == rows.count else { return }
        for v in versions { b.writeInteger(v) }
    }

    /// Reads the versions `writeRowVersions` wrote, if any: exactly one per row, each in
    /// 1...lastSeq (a row cannot come from a write after the snapshot's point).
    static func readRowVersions(_ rows: inout [Row], lastSeq: UInt64, _ b: inout ByteBuffer) throws(WireError) {
        guard b.readableBytes > 0, !rows.isEmpty else { return }
        guard b.readableBytes == rows.count * 8 else {
            throw .invalidField("row versions: \(b.readableBytes) bytes for \(rows.count) rows")
        }
        for i in rows.indices {
            let v = try readU64(&b, "row version")
            guard v >= 1, v <= lastSeq else { throw .invalidField("row version \(v) outside 1...\(lastSeq)") }
            rows[i].version = v
        }
    }
}

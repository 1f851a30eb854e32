import ChainCore
import NIOCore

/// Slot moves in a chain's history (`MoveMark`): the optional trailing fields that mark a
/// forwarded update as a move's copy, purge delete or barrier, and the barriers a watch answer
/// (`changes`) carries after its changes. Messages without them keep their bytes.
///
/// A forward's trailer: nothing; or the version a failed condition found (u64, the older field);
/// or, for a move's update, u64 `noCondition` then the mark (u8 tag, and for a barrier its
/// `from` chain, `after` version and slot ranges). A barrier's key is empty (length 0), which no
/// other update may have.
extension MessageCodec {
    /// Stands for "no failed condition" before a mark: a version no sequence number reaches.
    static let noCondition = UInt64.max

    enum MarkTag: UInt8 {
        case copy = 1, purge, barrier
    }

    static func writeUpdate(_ update: Update, _ b: inout ByteBuffer) {
        b.writeInteger(update.seq)
        writeKey(update.key, &b)
        writeOptionalValue(update.value, &b)
        writeRequest(update.request, &b)
        if let move = update.move {
            b.writeInteger(update.conditionFailed ?? noCondition)
            switch move {
            case .copy: b.writeInteger(MarkTag.copy.rawValue)
            case .purge: b.writeInteger(MarkTag.purge.rawValue)
            case .barrier(let barrier):
                b.writeInteger(MarkTag.barrier.rawValue)
                writeBarrier(barrier, &b)
            }
        } else if let current = update.conditionFailed {
            b.writeInteger(current)
        }
    }

    static func readUpdate(_ b: inout ByteBuffer) throws(WireError) -> Update {
        let seq = try readU64(&b, "seq")
        // A barrier's key is empty: read here, checked against the mark below.
        let key: String
        if b.getInteger(at: b.readerIndex, as: UInt16.self) == 0 {
            b.moveReaderIndex(forwardBy: 2)
            key = ""
        } else {
            key = try readKey(&b)
        }
        let value = try readOptionalValue(&b)
        let request = try readRequest(&b)
        var conditionFailed: UInt64?
        var move: MoveMark?
        if b.readableBytes > 0, b.readableBytes <= 8 {
            conditionFailed = try readConditionFailed(&b, value: value)
            guard conditionFailed != noCondition else { throw .truncated("move mark") }
        } else if b.readableBytes > 0 {
            guard try readU64(&b, "condition-failed version") == noCondition else {
                throw .invalidField("a slot move's update with a failed condition")
            }
            let tag = try readU8(&b, "move mark")
            switch MarkTag(rawValue: tag) {
            case .copy: move = .copy
            case .purge: move = .purge
            case .barrier: move = .barrier(try readBarrier(&b))
            case nil: throw .invalidField("unknown move mark \(tag)")
            }
        }
        let isBarrier = if case .barrier = move { true } else { false }
        guard key.isEmpty == isBarrier else {
            throw isBarrier ? .invalidField("a barrier with a key") : .invalidKey("empty")
        }
        guard !isBarrier || (value == nil && request == nil) else { throw .invalidField("a barrier with a value or request") }
        return Update(seq: seq, key: key, value: value, request: request, conditionFailed: conditionFailed, move: move)
    }

    static func writeBarrier(_ barrier: MoveBarrier, _ b: inout ByteBuffer) {
        writeShort(barrier.from, &b)
        b.writeInteger(barrier.after)
        writeSlotRanges(barrier.slots, &b)
    }

    static func readBarrier(_ b: inout ByteBuffer) throws(WireError) -> MoveBarrier {
        let from = try readChainID(&b)
        let after = try readU64(&b, "barrier version")
        return MoveBarrier(slots: try readSlotRanges(&b), from: from, after: after)
    }

    /// A watch answer's changes: the key changes as before, then `through`, then (only if there
    /// are any) the barriers, each with its version, which places it among the changes.
    static func writeChanges(_ events: [Change], through: UInt64, _ b: inout ByteBuffer) {
        let changes = events.filter { $0.barrier == nil }
        b.writeInteger(UInt32(changes.count))
        for event in changes {
            writeKey(event.key, &b)
            writeOptionalValue(event.value, &b)
            b.writeInteger(event.version)
        }
        b.writeInteger(through)
        let barriers = events.filter { $0.barrier != nil }
        guard !barriers.isEmpty else { return }
        b.writeInteger(UInt32(barriers.count))
        for event in barriers {
            b.writeInteger(event.version)
            writeBarrier(event.barrier!, &b)
        }
    }

    /// Reads the barriers `writeChanges` wrote after `through`, if any, and places them among
    /// `changes` by version (each at most `through`, none sharing a version with another entry).
    static func readBarriers(into changes: inout [Change], through: UInt64, _ b: inout ByteBuffer) throws(WireError) {
        guard b.readableBytes > 0 else { return }
        let count = Int(try readU32(&b, "barrier count"))
        guard count >= 1, count + changes.count <= WireLimits.scanRowsMax else {
            throw .invalidField("\(count) barriers with \(changes.count) changes (at most \(WireLimits.scanRowsMax) in all)")
        }
        for _ in 0..<count {
            let version = try readVersion(&b, "barrier's version")
            guard version <= through else { throw .invalidField("barrier at version \(version) after through \(through)") }
            let barrier = try readBarrier(&b)
            let index = changes.firstIndex { $0.version >= version } ?? changes.endIndex
            guard index == changes.endIndex || changes[index].version != version else {
                throw .invalidField("two entries at version \(version)")
            }
            changes.insert(Change(barrier: barrier, version: version), at: index)
        }
    }
}

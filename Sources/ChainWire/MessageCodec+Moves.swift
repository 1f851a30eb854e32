import ChainCore
import NIOCore

/// The messages of a slot move between chains: `purgeSlots`, `moveSlots` and `moveIn` (see
/// `SlotMove`), and an operator's `decommission`.
/// Their slot lists are at most `SlotMove.slotsMax` distinct slots, as ascending disjoint ranges.
extension MessageCodec {
    static func encodeMoveBody(_ message: Message, into b: inout ByteBuffer) {
        switch message {
        case .purgeSlots(let slots, let mapVersion):
            writeSlotRanges(slots, &b)
            b.writeInteger(mapVersion)
        case .moveSlots(let slots, let to, let target, let mapVersion):
            writeSlotRanges(slots, &b)
            writeShort(to, &b)
            writeAddress(target, &b)
            b.writeInteger(mapVersion)
        case .decommission(let server, let cancel):
            writeShort(server, &b)
            writeBool(cancel, &b)
        case .moveIn(let slots, let from, let after, let mapVersion):
            writeSlotRanges(slots, &b)
            writeShort(from, &b)
            b.writeInteger(after)
            b.writeInteger(mapVersion)
        default:
            preconditionFailure("\(message.kind) is not a slot move message")
        }
    }

    static func decodeMoveBody(_ kind: Message.Kind, _ body: inout ByteBuffer) throws(WireError) -> Message {
        switch kind {
        case .purgeSlots:
            let slots = try readSlotRanges(&body)
            return .purgeSlots(slots: slots, mapVersion: try readU64(&body, "map version"))
        case .moveSlots:
            let slots = try readSlotRanges(&body)
            let to = try readChainID(&body)
            let target = try readAddress(&body)
            return .moveSlots(slots: slots, to: to, target: target, mapVersion: try readU64(&body, "map version"))
        case .decommission:
            let server = try readNodeID(&body)
            return .decommission(server: server, cancel: try readBool(&body, "cancel"))
        case .moveIn:
            let slots = try readSlotRanges(&body)
            let from = try readChainID(&body)
            let after = try readU64(&body, "donor version")
            return .moveIn(slots: slots, from: from, after: after, mapVersion: try readU64(&body, "map version"))
        default:
            preconditionFailure("\(kind) is not a slot move message")
        }
    }

    static func writeSlotRanges(_ ranges: [ClosedRange<Int>], _ b: inout ByteBuffer) {
        b.writeInteger(UInt16(truncatingIfNeeded: ranges.count))
        for range in ranges {
            b.writeInteger(UInt16(truncatingIfNeeded: range.lowerBound))
            b.writeInteger(UInt16(truncatingIfNeeded: range.upperBound))
        }
    }

    /// Ascending, disjoint, non-adjacent ranges of at most `SlotMove.slotsMax` slots in all: the
    /// one encoding of a slot set (`SlotMove.ranges`).
    static func readSlotRanges(_ b: inout ByteBuffer) throws(WireError) -> [ClosedRange<Int>] {
        let count = Int(try readU16(&b, "slot range count"))
        guard count >= 1, count <= SlotMove.slotsMax else { throw .invalidField("\(count) slot ranges") }
        var ranges: [ClosedRange<Int>] = []
        var total = 0
        for _ in 0..<count {
            let from = Int(try readU16(&b, "slot")), to = Int(try readU16(&b, "slot"))
            let after = (ranges.last?.upperBound ?? -2) + 1
            guard from <= to, to < SlotMap.slotCount, from > after else {
                throw .invalidField("slot range \(from)...\(to) is not ascending, disjoint and valid")
            }
            total += to - from + 1
            guard total <= SlotMove.slotsMax else { throw .invalidField("more than \(SlotMove.slotsMax) slots") }
            ranges.append(from...to)
        }
        return ranges
    }
}

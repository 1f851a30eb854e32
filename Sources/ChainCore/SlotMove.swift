/// Slots on their way from one chain to another (growth or rebalance), as the slot map records
/// it while the move is under way.
///
/// The record is what makes a move safe without any lock outside ZooKeeper: from the version of
/// the map that carries it, every server refuses reads and writes of the moving slots (clients
/// retry), so the donor's data of those slots stops changing; a server that becomes the donor's
/// head later reads the record before the configuration that makes it head (one ZooKeeper
/// session sees changes in order), so it refuses them too. The donor's head copies the slots
/// into the recipient, and the next map either gives them to the recipient (the move is done) or
/// drops the record (aborted; the donor keeps them, the recipient's partial copy is purged before
/// any later import).
public struct SlotMove: Equatable, Sendable {
    /// The moving slots, ascending, without repeats.
    public let slots: [Int]
    public let from: SlotMap.ChainID
    public let to: SlotMap.ChainID

    /// nil unless the slots are valid, distinct and ascending, and the chains differ.
    public init?(slots: [Int], from: SlotMap.ChainID, to: SlotMap.ChainID) {
        guard !slots.isEmpty, slots.count <= SlotMove.slotsMax, from != to, !from.isEmpty, !to.isEmpty,
              slots.allSatisfy({ (0..<SlotMap.slotCount).contains($0) }),
              zip(slots, slots.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        self.slots = slots
        self.from = from
        self.to = to
    }

    /// Most slots one move carries. Each move pauses its slots for one copy of their keys, so
    /// smaller moves pause writes more briefly; each costs two slot map writes.
    public static let slotsMax = 128

    public func contains(_ slot: Int) -> Bool {
        var low = 0, high = slots.count - 1
        while low <= high {
            let mid = (low + high) / 2
            if slots[mid] == slot { return true }
            if slots[mid] < slot { low = mid + 1 } else { high = mid - 1 }
        }
        return false
    }

    /// The slots as inclusive ranges, ascending.
    public var ranges: [ClosedRange<Int>] { Self.ranges(of: slots) }

    /// Ascending slots as inclusive ranges, ascending.
    public static func ranges(of slots: [Int]) -> [ClosedRange<Int>] {
        var result: [ClosedRange<Int>] = []
        for slot in slots {
            if let last = result.last, last.upperBound + 1 == slot {
                result[result.count - 1] = last.lowerBound...slot
            } else {
                result.append(slot...slot)
            }
        }
        return result
    }

    /// The slots of `ranges` (which must be ascending and disjoint).
    public static func slots(of ranges: [ClosedRange<Int>]) -> [Int] {
        ranges.flatMap { Array($0) }
    }
}

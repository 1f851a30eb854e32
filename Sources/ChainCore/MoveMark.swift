/// Marks an update a slot move made (`SlotCopier`, `SlotPurge` in the server) rather than a
/// client: it is replicated with the update and kept in the chain's history (`Replica.recent`),
/// so that watches can tell a key's moving from a user's change of it (`committedChanges`).
public enum MoveMark: Equatable, Sendable {
    /// The recipient chain's copy of a row of a moving slot: the same value the donor had, not a
    /// change of the key. Hidden from watchers.
    case copy
    /// A chain's delete of its row of a slot it does not own (the donor's after the move, or a
    /// recipient's leftover before an import): not a change of the key. Hidden from watchers.
    case purge
    /// Changes no key: slots moved into this chain (`MoveBarrier`). Written by the recipient's
    /// head before the first copy of the move, so it precedes every change of those slots here.
    case barrier(MoveBarrier)
}

/// "Slots `slots` moved into this chain from chain `from`; every change the donor made of them
/// is at or before its version `after`." A watcher of both chains delivers this chain's changes
/// after the barrier only once it has delivered the donor's changes through `after`, so one
/// key's changes reach it in order across the move (`WatchOrder` in the client).
public struct MoveBarrier: Equatable, Sendable {
    /// Ascending, disjoint slot ranges (`SlotMove.ranges`).
    public var slots: [ClosedRange<Int>]
    /// The donor chain's id.
    public var from: String
    /// The donor's committed version (public: `PublicVersions` of `from`) when the copy began:
    /// its writes of the slots were all committed by then, and it took none after.
    public var after: UInt64

    public init(slots: [ClosedRange<Int>], from: String, after: UInt64) {
        self.slots = slots
        self.from = from
        self.after = after
    }

    /// Whether slot `slot` is one of the barrier's.
    public func contains(slot: Int) -> Bool { slots.contains { $0.contains(slot) } }

    /// Bytes a barrier takes in memory and on the wire, about.
    var size: Int { from.utf8.count + 8 + slots.count * 4 }
}

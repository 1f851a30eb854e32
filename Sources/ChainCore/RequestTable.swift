/// The client requests a replica remembers, with the seq of each one's write, oldest first: a
/// ring of entries in the order they were remembered, and an open-addressing index into it.
///
/// Why not `[RequestID: UInt64]` beside the ring (as before round 3's cut 14): the dictionary of
/// 65,536 requests took 4.7 MB of a tail's 35 MB peak heap under 8 × 32 writes (heaptrack,
/// `bench/2026-12-06-heaptrack-tail.md`), its 24-byte buckets holding a second copy of what the
/// ring holds. Here the index is 4 bytes a slot (the entry's position in the ring), 512 KiB for
/// the whole window, and the ring's entry is the only copy.
///
/// The index: linear probing over `slots`, a power of two at least twice the live entries, so a
/// probe ends within a few slots; a slot is 0 (free) or 1 + the entry's position counted from the
/// first entry ever remembered, modulo 2^31 (the ring holds fewer, so a position is never
/// ambiguous; modulo 2^32 the position 2^32 - 1 stored as 0, a free slot: the wrap test found
/// it). Removal shifts the probe run back instead of leaving tombstones, so a table that turns
/// over its whole window every few seconds never degrades. The hash is Swift's seeded `Hasher`:
/// a client cannot pick request ids that collide.
///
/// A request remembered twice (a retry sequenced again after the head forgot it, which a replica
/// further down may still remember) points to its newest entry; the older entry stays in the
/// ring, recognized as superseded when it leaves it.
struct RequestTable: Sendable {
    /// Every remembered entry, oldest first; `seq`s never decrease.
    private(set) var order = Ring<(request: RequestID, seq: UInt64)>()
    private var slots: [UInt32] = []
    /// Entries ever removed from the front of `order`, modulo 2^32: the position of its first.
    private var removed: UInt32 = 0
    /// Positions are kept modulo 2^31 (this + 1).
    private static var positionMask: UInt32 { 0x7FFF_FFFF }
    /// Slots in use: the requests the table answers for.
    private(set) var count = 0

    init() {}

    /// A table whose first entry gets position `first` (tests: positions wrapping).
    init(firstPosition first: UInt32) {
        removed = first
    }

    /// Slots an index starts with once something is remembered.
    private static var minimumSlots: Int { 16 }

    /// The seq of `request`'s write, if it is remembered.
    func seq(of request: RequestID) -> UInt64? {
        guard let at = find(request) else { return nil }
        return order[offset: offset(of: slots[at])].seq
    }

    /// Remembers `request` as the request of write `seq`, the newest yet.
    mutating func remember(_ request: RequestID, seq: UInt64) {
        precondition(order.last.map { $0.seq <= seq } ?? true, "requests are remembered in seq order")
        precondition(order.count < Int(Self.positionMask), "a ring position fits 31 bits")
        order.append((request, seq))
        let stored = ((removed &+ UInt32(truncatingIfNeeded: order.count - 1)) & Self.positionMask) + 1
        // Room first (a request remembered again may grow the index a step early), so that one
        // probe, one hash, finds the request's slot or the free slot it goes to.
        if 2 * (count + 1) > slots.count { rebuild(slotCount: Swift.max(Self.minimumSlots, slots.count * 2)) }
        let (at, found) = probe(request)
        slots[at] = stored  // remembered again: the newest write answers for it
        if !found { count += 1 }
    }

    /// Forgets the oldest entry; returns it.
    @discardableResult
    mutating func forgetOldest() -> (request: RequestID, seq: UInt64) {
        let oldest = order.removeFirst()
        let position = (removed & Self.positionMask) + 1  // what a slot pointing to it holds
        removed &+= 1
        if let at = find(oldest.request, removedFirst: true), slots[at] == position { erase(at) }
        return oldest
    }

    /// Slots the index takes (tests: the index keeps its bound).
    var slotCapacity: Int { slots.count }

    // MARK: The index

    private func home(_ request: RequestID) -> Int {
        var hasher = Hasher()
        hasher.combine(request)
        return hasher.finalize() & (slots.count - 1)
    }

    /// The offset in `order` of the entry a slot holds.
    private func offset(of stored: UInt32) -> Int { Int((stored &- 1 &- removed) & Self.positionMask) }

    /// The slot of `request`. `removedFirst`: the ring's first entry was just removed (its slot,
    /// which still points to it, reads as offset -1, that is 2^31 - 1, and is matched by position).
    private func find(_ request: RequestID, removedFirst: Bool = false) -> Int? {
        guard !slots.isEmpty else { return nil }
        let (at, found) = probe(request, removedFirst: removedFirst)
        return found ? at : nil
    }

    /// `request`'s slot (`found`), or the free slot that ends its probe run. The index has slots.
    private func probe(_ request: RequestID, removedFirst: Bool = false) -> (at: Int, found: Bool) {
        var at = home(request)
        while slots[at] != 0 {
            let offset = offset(of: slots[at])
            if offset < order.count {
                if order[offset: offset].request == request { return (at, true) }
            } else if removedFirst, offset == Int(Self.positionMask) {
                return (at, true)  // the entry just removed: the caller checks it is `request`'s
            }
            at = (at + 1) & (slots.count - 1)
        }
        return (at, false)
    }

    /// Frees slot `at`, then moves back each later slot of the probe run whose home is not
    /// between the freed slot and it (cyclically), so that every lookup still finds its entry.
    private mutating func erase(_ at: Int) {
        let mask = slots.count - 1
        var hole = at
        var next = (at + 1) & mask
        while slots[next] != 0 {
            let home = home(order[offset: offset(of: slots[next])].request)
            // `next` may move to `hole` unless its home lies cyclically in (hole, next].
            let stays = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next)
            if !stays {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = 0
        count -= 1
    }

    /// A new index of `slotCount` slots holding the newest entry of each request in `order`.
    private mutating func rebuild(slotCount: Int) {
        precondition(slotCount & (slotCount - 1) == 0 && slotCount >= 2 * count, "the index is a power of two at most half full")
        let old = slots
        slots = [UInt32](repeating: 0, count: slotCount)
        for stored in old where stored != 0 {
            var at = home(order[offset: offset(of: stored)].request)
            while slots[at] != 0 { at = (at + 1) & (slotCount - 1) }
            slots[at] = stored
        }
    }
}

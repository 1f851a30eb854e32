/// The client requests a replica remembers, with the seq of each one's write, oldest first: a
/// ring of entries in the order they were remembered, and an open-addressing index into it.
///
/// Why not `[RequestID: UInt64]` beside the ring (as before round 3's cut 14): the dictionary of
/// 65,536 requests took 4.7 MB of a tail's 35 MB peak heap under 8 × 32 writes (heaptrack,
/// `bench/2026-12-06-heaptrack-tail.md`), its 24-byte buckets holding a second copy of what the
/// ring holds. Here the index is 8 bytes a slot (the entry's position in the ring and 32 bits of
/// its hash), 1 MiB for the whole window, and the ring's entry is the only copy.
///
/// The index: linear probing over `slots`, a power of two at least twice the live entries, so a
/// probe ends within a few slots. A slot is 0 (free) or, in its low 32 bits, 1 + the entry's
/// position counted from the first entry ever remembered, modulo 2^31 (the ring holds fewer, so
/// a position is never ambiguous; modulo 2^32 the position 2^32 - 1 stored as 0, a free slot:
/// the wrap test found it), and in its high 32 bits the request's hash, whose low bits are its
/// home slot. Removal shifts the probe run back instead of leaving tombstones, so a table that
/// turns over its whole window every few seconds never degrades. The hash is Swift's seeded
/// `Hasher`: a client cannot pick request ids that collide.
///
/// Why the hash in the slot (cut 16): with positions alone, every slot a probe passed read its
/// ring entry (a cache miss in a 1.5 MB ring) to compare the request, and every slot a removal
/// shifted read it and hashed it again to find its home. That was 4.8 % of a middle server's CPU
/// under 8 × 32 writes (`bench/2026-12-06-request-hashes`). Now a probe reads the ring only on a
/// 32-bit hash match, and a removal reads no entry.
///
/// A request remembered twice (a retry sequenced again after the head forgot it, which a replica
/// further down may still remember) points to its newest entry; the older entry stays in the
/// ring, recognized as superseded when it leaves it.
struct RequestTable: Sendable {
    /// Every remembered entry, oldest first; `seq`s never decrease.
    private(set) var order = Ring<(request: RequestID, seq: UInt64)>()
    private var slots: [UInt64] = []
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
        guard let at = find(request, hash: Self.hash(request)) else { return nil }
        return order[offset: offset(of: slots[at])].seq
    }

    /// Remembers `request` as the request of write `seq`, the newest yet.
    mutating func remember(_ request: RequestID, seq: UInt64) {
        precondition(order.last.map { $0.seq <= seq } ?? true, "requests are remembered in seq order")
        precondition(order.count < Int(Self.positionMask), "a ring position fits 31 bits")
        order.append((request, seq))
        let hash = Self.hash(request)
        let position = ((removed &+ UInt32(truncatingIfNeeded: order.count - 1)) & Self.positionMask) + 1
        // Room first (a request remembered again may grow the index a step early), so that one
        // probe, one hash, finds the request's slot or the free slot it goes to.
        if 2 * (count + 1) > slots.count { rebuild(slotCount: Swift.max(Self.minimumSlots, slots.count * 2)) }
        let (at, found) = probe(request, hash: hash)
        slots[at] = Self.slot(position: position, hash: hash)  // remembered again: the newest write answers for it
        if !found { count += 1 }
    }

    /// Forgets the oldest entry; returns it.
    @discardableResult
    mutating func forgetOldest() -> (request: RequestID, seq: UInt64) {
        let oldest = order.removeFirst()
        let position = (removed & Self.positionMask) + 1  // what a slot pointing to it holds
        removed &+= 1
        if let at = find(oldest.request, hash: Self.hash(oldest.request), removedFirst: true),
           UInt32(truncatingIfNeeded: slots[at]) == position {
            erase(at)
        }
        return oldest
    }

    /// Slots the index takes (tests: the index keeps its bound).
    var slotCapacity: Int { slots.count }

    // MARK: The index

    private static func hash(_ request: RequestID) -> UInt32 {
        var hasher = Hasher()
        hasher.combine(request)
        return UInt32(truncatingIfNeeded: hasher.finalize())
    }

    private static func slot(position: UInt32, hash: UInt32) -> UInt64 {
        assert(position != 0, "a used slot is never 0")
        return UInt64(hash) << 32 | UInt64(position)
    }

    /// The home slot of a slot's entry, from the hash it keeps.
    private func home(ofSlot slot: UInt64) -> Int { Int(truncatingIfNeeded: slot >> 32) & (slots.count - 1) }

    /// The offset in `order` of the entry a slot holds.
    private func offset(of slot: UInt64) -> Int {
        Int((UInt32(truncatingIfNeeded: slot) &- 1 &- removed) & Self.positionMask)
    }

    /// The slot of `request`. `removedFirst`: the ring's first entry was just removed (its slot,
    /// which still points to it, reads as offset -1, that is 2^31 - 1, and is matched by position).
    private func find(_ request: RequestID, hash: UInt32, removedFirst: Bool = false) -> Int? {
        guard !slots.isEmpty else { return nil }
        let (at, found) = probe(request, hash: hash, removedFirst: removedFirst)
        return found ? at : nil
    }

    /// `request`'s slot (`found`), or the free slot that ends its probe run. The index has slots.
    /// Only a slot with the request's hash reads its ring entry.
    private func probe(_ request: RequestID, hash: UInt32, removedFirst: Bool = false) -> (at: Int, found: Bool) {
        let mask = slots.count - 1
        var at = Int(truncatingIfNeeded: hash) & mask
        while slots[at] != 0 {
            guard UInt32(truncatingIfNeeded: slots[at] >> 32) == hash else {
                at = (at + 1) & mask
                continue
            }
            let offset = offset(of: slots[at])
            if offset < order.count {
                if order[offset: offset].request == request { return (at, true) }
            } else if removedFirst, offset == Int(Self.positionMask) {
                return (at, true)  // the entry just removed: the caller checks it is `request`'s
            }
            at = (at + 1) & mask
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
            let home = home(ofSlot: slots[next])
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
        slots = [UInt64](repeating: 0, count: slotCount)
        for slot in old where slot != 0 {
            var at = home(ofSlot: slot)
            while slots[at] != 0 { at = (at + 1) & (slotCount - 1) }
            slots[at] = slot
        }
    }
}

/// A FIFO queue on a circular buffer: appending at the back and removing from the front are O(1),
/// and the storage is exactly a power of two of slots, every one in use or free for the next
/// append (no dead prefix). The core may import only the standard library, hence no Deque.
///
/// Elements are moved out by `removeFirst` (the slot is left empty, so no reference is retained
/// twice). Reading one (`subscript(offset:)`, `first`, `last`) yields what the array's getter
/// returns, a copy: the profile of cut 16 showed `ring.first?.update.seq` retaining and releasing
/// every reference of the element. Hot paths therefore derive a sequence number from the count
/// (`Replica.recentFirstSeq`, `advanceStable`) instead of reading the element for it.
///
/// Memory (round 3, cut 11): the previous ring, an array with a moving start compacted once the
/// dead prefix reached the live part, held up to twice its elements' slots, and four times after
/// the array doubled on the append that reached them: 8 MiB of address space (4 MiB touched) for
/// the 65,536 remembered requests. A bounded user that removes before it appends (`remember`,
/// `cacheValue`) now holds exactly its bound, rounded up to a power of two.
struct Ring<Element> {
    /// `capacity` slots (a power of two, or none); the elements are `count` slots from `head`, wrapping.
    private var storage: [Element?] = []
    private var head = 0
    private(set) var count = 0

    /// Slots a ring starts with once something is appended.
    private static var minimumCapacity: Int { 16 }

    var isEmpty: Bool { count == 0 }
    /// Slots the storage holds, used or not (what `shrink` gives back).
    var capacity: Int { storage.count }

    /// The storage slot of the element `offset` places after the first.
    @inline(__always) private func slot(_ offset: Int) -> Int { (head + offset) & (storage.count - 1) }

    var first: Element? {
        _read {
            if isEmpty { yield nil } else { yield storage[head] }
        }
    }

    var last: Element? {
        _read {
            if isEmpty { yield nil } else { yield storage[slot(count - 1)] }
        }
    }

    mutating func append(_ e: Element) {
        if count == storage.count { resize(to: Swift.max(Self.minimumCapacity, storage.count * 2)) }
        storage[slot(count)] = e
        count += 1
    }

    mutating func removeFirst() -> Element {
        precondition(!isEmpty, "removeFirst on an empty ring")
        let e = storage[head].take()!
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return e
    }

    /// The element `offset` places after the first.
    subscript(offset offset: Int) -> Element {
        _read {
            precondition(offset >= 0 && offset < count, "ring offset \(offset) outside 0..<\(count)")
            yield storage[slot(offset)]!
        }
        _modify {
            precondition(offset >= 0 && offset < count, "ring offset \(offset) outside 0..<\(count)")
            let at = slot(offset)
            var e = storage[at].take()!
            defer { storage[at] = e }
            yield &e
        }
    }

    func forEach(_ body: (Element) throws -> Void) rethrows {
        for offset in 0..<count { try body(storage[slot(offset)]!) }
    }

    /// Gives back storage beyond twice what the elements need: after a burst (a history pinned for
    /// a joiner), the ring otherwise keeps its largest capacity for the life of the process.
    mutating func shrink() {
        var wanted = Self.minimumCapacity
        while wanted < count { wanted *= 2 }
        guard storage.count >= 2 * Swift.max(wanted, 1024) else { return }
        resize(to: wanted)
    }

    mutating func removeAll() {
        storage = []
        head = 0
        count = 0
    }

    /// Moves the elements, in order, to a new storage of `capacity` slots.
    private mutating func resize(to capacity: Int) {
        precondition(capacity >= count && capacity & (capacity - 1) == 0, "a ring's capacity is a power of two that holds its elements")
        // A new buffer (never the old one resized in place): `shrink` must give the memory back.
        var moved = [Element?](repeating: nil, count: capacity)
        for offset in 0..<count { moved[offset] = storage[slot(offset)].take() }
        storage = moved
        head = 0
    }
}

extension Ring: Sendable where Element: Sendable {}

/// A FIFO queue on a growable array with a moving start, so removing from the front is O(1)
/// amortized. The core may import only the standard library, hence no Deque.
///
/// Elements are read in place (`subscript(offset:)` and `first` yield a borrow: reading
/// `ring.first?.update.seq` copies one integer, not the element with its retains) and moved out
/// by `removeFirst` (the slot is left empty, so no reference is retained twice and released
/// later at compaction). Copies of in-flight entries (seven references each) showed in the
/// write profile's `swift_retain` (issue 18).
struct Ring<Element> {
    private var storage: [Element?] = []
    private var start = 0

    var isEmpty: Bool { start == storage.count }
    var count: Int { storage.count - start }
    /// Slots the storage holds, used or not (what `shrink` gives back).
    var capacity: Int { storage.capacity }

    var first: Element? {
        _read {
            if isEmpty { yield nil } else { yield storage[start] }
        }
    }

    var last: Element? {
        _read {
            if isEmpty { yield nil } else { yield storage[storage.count - 1] }
        }
    }

    mutating func append(_ e: Element) { storage.append(e) }

    mutating func removeFirst() -> Element {
        precondition(!isEmpty, "removeFirst on an empty ring")
        let e = storage[start].take()!
        start += 1
        // Compact once the dead prefix dominates, keeping the amortized cost O(1) per element.
        if start >= 1024 && start * 2 >= storage.count {
            storage.removeFirst(start)
            start = 0
        }
        return e
    }

    /// The element `offset` places after the first.
    subscript(offset offset: Int) -> Element {
        _read { yield storage[start + offset]! }
        _modify {
            precondition(offset >= 0 && offset < count, "ring offset \(offset) outside 0..<\(count)")
            var e = storage[start + offset].take()!
            defer { storage[start + offset] = e }
            yield &e
        }
    }

    func forEach(_ body: (Element) throws -> Void) rethrows {
        for i in start..<storage.count { try body(storage[i]!) }
    }

    /// Gives back storage beyond twice what the elements need: after a burst (a history pinned for
    /// a joiner), the array otherwise keeps its largest capacity for the life of the process.
    mutating func shrink() {
        // At twice or more: the array's growth can leave exactly twice (`>` missed that in CI).
        guard storage.capacity >= 2 * Swift.max(count, 1024) else { return }
        // A new buffer: `Array(storage[start...])` may keep the old one when the slice is all of it.
        var smaller: [Element?] = []
        smaller.reserveCapacity(count)
        smaller.append(contentsOf: storage[start...])
        storage = smaller
        start = 0
    }

    mutating func removeAll() {
        storage.removeAll(keepingCapacity: false)
        start = 0
    }
}

extension Ring: Sendable where Element: Sendable {}

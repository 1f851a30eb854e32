/// A FIFO queue on a growable array with a moving start, so removing from the front is O(1)
/// amortized. The core may import only the standard library, hence no Deque.
struct Ring<Element> {
    private var storage: [Element] = []
    private var start = 0

    var isEmpty: Bool { start == storage.count }
    var count: Int { storage.count - start }
    var first: Element? { isEmpty ? nil : storage[start] }
    var last: Element? { isEmpty ? nil : storage[storage.count - 1] }

    mutating func append(_ e: Element) { storage.append(e) }

    mutating func removeFirst() -> Element {
        precondition(!isEmpty, "removeFirst on an empty ring")
        let e = storage[start]
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
        get { storage[start + offset] }
        set { storage[start + offset] = newValue }
    }

    func forEach(_ body: (Element) throws -> Void) rethrows {
        for i in start..<storage.count { try body(storage[i]) }
    }

    mutating func removeAll() {
        storage.removeAll(keepingCapacity: false)
        start = 0
    }
}

extension Ring: Sendable where Element: Sendable {}

/// The call and return entries of a search's operations in one time-ordered doubly linked list,
/// held in arrays. Entry `2k` calls operation `k` and entry `2k + 1` returns it.
struct EntryList {
    private var next: [Int32]
    private var prev: [Int32]
    private let head: Int

    /// A list of `entries`, already in order, out of `2 * operationCount` possible entries.
    init(_ entries: [Int32], operationCount: Int) {
        head = 2 * operationCount
        next = [Int32](repeating: -1, count: head + 1)
        prev = [Int32](repeating: -1, count: head + 1)
        var last = head
        for entry in entries {
            next[last] = entry
            prev[Int(entry)] = Int32(last)
            last = Int(entry)
        }
    }

    /// The first entry, or -1 if the list is empty.
    var first: Int { Int(next[head]) }

    /// The entry after `entry`, or -1.
    func after(_ entry: Int) -> Int { Int(next[entry]) }

    /// Removes a call entry and its return entry from the list. The removed entries keep their
    /// own links, which is what `unlift` needs.
    mutating func lift(_ call: Int) {
        unlink(call)
        unlink(call + 1)
    }

    /// Puts back what `lift` removed. Lifts are undone in reverse order, so the neighbours an
    /// entry had when it was lifted are its neighbours again.
    mutating func unlift(_ call: Int) {
        relink(call + 1)
        relink(call)
    }

    private mutating func unlink(_ e: Int) {
        let p = Int(prev[e]), n = next[e]
        next[p] = n
        if n >= 0 { prev[Int(n)] = Int32(p) }
    }

    private mutating func relink(_ e: Int) {
        let p = Int(prev[e]), n = next[e]
        next[p] = Int32(e)
        if n >= 0 { prev[Int(n)] = Int32(e) }
    }
}

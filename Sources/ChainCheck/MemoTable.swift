/// The configurations a search has already explored, so it never explores one twice: the
/// memoization of Lowe's refinement of the Wing–Gong algorithm, as in Porcupine, extended with
/// dominance for unknown-outcome operations.
///
/// A configuration is (the known-outcome operations done, the model state, the unknown-outcome
/// operations used). What can follow depends only on the configuration, so one already explored
/// (and so failed: a search stops at its first success) need not be explored again. Moreover,
/// unused unknown-outcome operations only add possibilities, so a configuration whose used set
/// includes the used set of an explored configuration with the same done set and state fails too.
/// Entries are keyed by (done set, state), each holding the used sets explored with it.
///
/// Memory matters more than anything else here (a hard search stores an entry for most steps), so
/// an entry does not hold the whole done bitset: the done set of a search is nearly always "every
/// operation below some index, plus a few more", so an entry keeps only the words from the first
/// word not all done to the last word with something done (`base` and the words in `arena`).
/// That form depends only on the set, so equal sets have equal entries. Lookups build nothing:
/// they compare the stored words with the caller's bitset in place.
struct MemoTable {
    private var slots: [Int32]
    private var hashes: [UInt64] = []
    private var states: [Int32] = []
    private var bases: [Int32] = []
    private var wordCounts: [Int32] = []
    private var wordStarts: [Int] = []
    private var arena: [UInt64] = []
    /// Per entry, the first of its used sets (a list through `usedNext`).
    private var firstUsed: [Int32] = []
    /// Used sets, `usedStride` words each.
    private var usedNext: [Int32] = []
    private var usedArena: [UInt64] = []
    private let usedStride: Int

    /// - Parameter usedWords: the words of every used set (the number of unknown-outcome
    ///   operations, divided by 64, rounded up).
    init(usedWords: Int) {
        slots = [Int32](repeating: -1, count: 1024)
        usedStride = usedWords
    }

    var count: Int { hashes.count }

    /// Records the configuration (`done` with bit `extra` also set, `state`, `used` with bit
    /// `extraUsed` also set unless it is -1) unless an explored configuration covers it. `hash`
    /// must depend only on the done set and the state (the caller keeps a Zobrist hash of the
    /// set); `base` and `end` bound the words of the done set to store, and must depend only on
    /// the set too (the caller keeps them as described above, see `LinearizationSearch`).
    /// Returns whether it was recorded, that is, whether it still needs exploring.
    mutating func insert(hash: UInt64, state: Int32, done: [UInt64], extra: Int, base: Int, end: Int,
                         used: [UInt64], extraUsed: Int) -> Bool {
        precondition(used.count == usedStride, "used set of the wrong size")
        let extraWord = extra >> 6
        let extraMask: UInt64 = 1 << UInt64(extra & 63)
        let wordCount = max(0, end - base)
        let found: Int? = done.withUnsafeBufferPointer { words in
            @inline(__always) func word(_ i: Int) -> UInt64 {
                i == extraWord ? words[i] | extraMask : words[i]
            }
            let mask = slots.count - 1
            var slot = Int(truncatingIfNeeded: hash) & mask
            while true {
                let index = Int(slots[slot])
                if index < 0 { break }
                if hashes[index] == hash && states[index] == state && Int(bases[index]) == base
                    && Int(wordCounts[index]) == wordCount {
                    let start = wordStarts[index]
                    var same = true
                    for i in 0..<wordCount where arena[start + i] != word(base + i) {
                        same = false
                        break
                    }
                    if same { return index }
                }
                slot = (slot + 1) & mask
            }

            precondition(hashes.count < Int(Int32.max), "memo table full")
            slots[slot] = Int32(hashes.count)
            hashes.append(hash)
            states.append(state)
            bases.append(Int32(base))
            wordCounts.append(Int32(wordCount))
            wordStarts.append(arena.count)
            firstUsed.append(-1)
            for i in base..<(base + wordCount) { arena.append(word(i)) }
            if hashes.count * 2 > slots.count { grow() }
            return nil
        }
        let index = found ?? hashes.count - 1
        let extraUsedWord = extraUsed < 0 ? -1 : extraUsed >> 6
        let extraUsedMask: UInt64 = extraUsed < 0 ? 0 : 1 << UInt64(extraUsed & 63)
        @inline(__always) func usedWord(_ i: Int) -> UInt64 {
            i == extraUsedWord ? used[i] | extraUsedMask : used[i]
        }
        if found != nil {
            if isCovered(entry: index, used: usedWord) { return false }
            dropSupersets(entry: index, of: usedWord)
        }
        precondition(usedNext.count < Int(Int32.max), "memo table full")
        usedNext.append(firstUsed[index])
        firstUsed[index] = Int32(usedNext.count - 1)
        for i in 0..<usedStride { usedArena.append(usedWord(i)) }
        return true
    }

    /// Whether a used set recorded for `entry` is a subset of the one `used` gives word by word.
    private func isCovered(entry: Int, used: (Int) -> UInt64) -> Bool {
        var record = Int(firstUsed[entry])
        while record >= 0 {
            let start = record * usedStride
            var subset = true
            for i in 0..<usedStride where usedArena[start + i] & ~used(i) != 0 {
                subset = false
                break
            }
            if subset { return true }
            record = Int(usedNext[record])
        }
        return false
    }

    /// Unlinks the used sets of `entry` that contain the one `used` gives: whatever they would
    /// cover, it covers. This keeps each list an antichain, which is short in practice (used sets
    /// at one done set and state mostly differ only in how many deletes of unknown outcome they
    /// used). Their words stay in the arena, unused.
    private mutating func dropSupersets(entry: Int, of used: (Int) -> UInt64) {
        var previous = -1
        var record = Int(firstUsed[entry])
        while record >= 0 {
            let start = record * usedStride
            var superset = true
            for i in 0..<usedStride where used(i) & ~usedArena[start + i] != 0 {
                superset = false
                break
            }
            let following = usedNext[record]
            if superset {
                if previous < 0 { firstUsed[entry] = following } else { usedNext[previous] = following }
            } else {
                previous = record
            }
            record = Int(following)
        }
    }

    /// Doubles the slot array; a load factor of at most one half keeps linear probing short.
    private mutating func grow() {
        var newSlots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = newSlots.count - 1
        for index in hashes.indices {
            var slot = Int(truncatingIfNeeded: hashes[index]) & mask
            while newSlots[slot] >= 0 { slot = (slot + 1) & mask }
            newSlots[slot] = Int32(index)
        }
        slots = newSlots
    }
}

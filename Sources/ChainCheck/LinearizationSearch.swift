/// The Wing–Gong linearizability search with Lowe's memoization (the algorithm Porcupine uses),
/// written as a loop with an explicit stack so that long histories cannot overflow the call stack.
///
/// Every operation of known outcome has a call entry (at its invocation) and a return entry (at
/// its completion, or +infinity) in one time-ordered list (`EntryList`). The search walks the list
/// from the front: at a call entry it tries to make that operation the next step (legal in the
/// model, and leading to a configuration not explored before, see `MemoTable`); if so it lifts the
/// operation's two entries out of the list and starts again from the front. Reaching a return
/// entry means that operation must already be done, so the search backtracks: it undoes the most
/// recent step and goes on after it. The history is linearizable when every required operation is
/// done, and not linearizable when the search must backtrack with nothing to undo.
///
/// Two kinds of operations need not be done, and each has a rule that keeps the search from
/// trying every place for them, which would multiply the work by two for each one still open:
///
/// - Unknown-outcome operations (`write`, `erase`) have no required state and observe nothing.
///   In any linearization, such an operation can be moved to the end (where it does nothing
///   observable) unless it comes right before a known operation that is legal after it but not
///   before it: if the next operation is another unknown one, that overwrites the effect; if the
///   next is a known operation legal in the earlier state, the state after that operation is the
///   same either way (a get leaves the value it saw; a put and a delete set one). So they are not
///   in the list: when a known operation is not legal, the search tries, as one step, an unknown-
///   outcome operation that makes it legal followed by it (`UnknownPool`). Such an operation must
///   be invoked before the first return entry in the list, like any operation that can go next.
///   The memo tracks them apart from the done set, since having used fewer is never worse.
/// - Optional operations (`TimedOperation.optional`) may be left out. Leaving one out changes
///   nothing, so it can always happen as late as possible: the search leaves one out only on
///   reaching its return entry, after trying everything before it.
struct LinearizationSearch {
    private enum StepKind: UInt8 {
        /// A known-outcome operation, linearized.
        case known
        /// An unknown-outcome operation, linearized just before the known one on the stack above it.
        case unknown
        /// An optional operation, left out.
        case leftOut
    }

    private struct Step {
        /// The call entry of the operation.
        var entry: Int32
        /// The state before the step.
        var state: Int32
        var kind: StepKind
        /// For an unknown-outcome step: which of the known operation's helper chains it came
        /// from, and that chain.
        var helper: Int32 = -1
        var chain: Int32 = -1
        /// `fullWords` and `lastWord` before the step.
        var fullWords: Int32 = 0
        var lastWord: Int32 = 0
    }

    private let ops: [TimedOperation]
    private let start: StartState
    private var list: EntryList
    private var pool: UnknownPool
    private var memo: MemoTable
    /// Zobrist hashing: the done set's hash is the XOR of one random word per member, so adding
    /// or removing an operation updates it in O(1).
    private let zobrist: [UInt64]
    /// Known-outcome operations done (linearized or left out).
    private var done: [UInt64]
    /// The unknown-outcome operations, which count as done for `fullWords`, so that they never
    /// break the run of done words the memo leaves out.
    private let unknownMask: [UInt64]
    /// The number of leading words of `done | unknownMask` that are all ones, and one past the
    /// last word of `done` that is not zero: the part of the done set the memo stores.
    private var fullWords = 0
    private var lastWord = 0
    private var setHash: UInt64 = 0
    /// Unknown-outcome operations linearized, by `UnknownPool.usedIndex`.
    private var used: [UInt64]
    private var state: Int32
    private var stack: [Step] = []
    private var requiredLeft: Int

    /// The latest completion time of a return entry the search had to backtrack from: no
    /// linearization it tried got past it, so the violation shows by then (a hint for where a
    /// failing window ends).
    private var frontier: UInt64 = 0

    static func run(_ problem: SearchProblem, budget: inout SearchBudget) -> SearchOutcome {
        runFindingFrontier(problem, budget: &budget).outcome
    }

    static func runFindingFrontier(_ problem: SearchProblem, budget: inout SearchBudget)
        -> (outcome: SearchOutcome, frontier: UInt64) {
        var search = LinearizationSearch(problem)
        let outcome = search.run(budget: &budget)
        return (outcome, search.frontier)
    }

    private init(_ problem: SearchProblem) {
        let ops = problem.operations
        self.ops = ops
        let n = ops.count
        precondition(n < Int(Int32.max) / 2, "history too long")
        start = problem.start
        // Sorted by time, calls before returns at equal times (so operations that touch count as
        // concurrent, the permissive reading), return entries at +infinity last.
        let entries = (0..<Int32(2 * n)).filter { !ops[Int($0 >> 1)].op.isUnknown }
        list = EntryList(entries.sorted { Self.entryKey($0, ops) < Self.entryKey($1, ops) }, operationCount: n)
        pool = UnknownPool(ops)
        used = [UInt64](repeating: 0, count: (pool.count + 63) / 64)
        memo = MemoTable(usedWords: used.count)
        zobrist = (0..<n).map { splitMix64(UInt64($0) &+ 0x5851_F42D_4C95_7F2D) }
        done = [UInt64](repeating: 0, count: (n + 63) / 64)
        var unknownMask = done
        for k in 0..<n where ops[k].op.isUnknown { unknownMask[k >> 6] |= 1 << UInt64(k & 63) }
        self.unknownMask = unknownMask
        state = start.initialState
        requiredLeft = ops.reduce(0) { $0 + ($1.optional || $1.op.isUnknown ? 0 : 1) }
        stack.reserveCapacity(n)
    }

    private mutating func run(budget: inout SearchBudget) -> SearchOutcome {
        var entry = list.first
        // At a call entry: -1 to try the operation in the current state first; i >= 0 to try
        // its helper chains from the `i`th on (set when backtracking to it).
        var nextHelper = -1
        while requiredLeft > 0 {
            guard budget.spend() else { return .exhausted }
            // While a required operation is open, its return entry (finite, so before every
            // infinite one) is in the list, so a walk from the front meets a return entry first.
            precondition(entry >= 0, "walked off the entry list")
            let k = entry >> 1
            if entry & 1 == 0 {
                if tryCall(k, helpersFrom: nextHelper) {
                    entry = list.first
                } else {
                    entry = list.after(entry)
                }
                nextHelper = -1
            } else if ops[k].optional && remember(k, state) {
                push(Step(entry: Int32(entry - 1), state: state, kind: .leftOut), newState: state)
                entry = list.first
            } else {
                frontier = max(frontier, ops[k].complete ?? .max)
                guard let top = pop() else { return .notLinearizable }
                let call = Int(top.entry)
                switch top.kind {
                case .known:
                    if stack.last?.kind == .unknown, let helper = pop() {
                        // Undo the pair, and try the operation's next helper.
                        entry = call
                        nextHelper = Int(helper.helper) + 1
                    } else {
                        entry = list.after(call)
                    }
                case .leftOut:
                    // There was nothing left to try at its return entry: back there, the memo
                    // refuses leaving it out again, and backtracking goes on.
                    entry = call + 1
                case .unknown:
                    preconditionFailure("an unknown-outcome step is always undone with its pair")
                }
            }
        }
        return .linearizable
    }

    /// Tries to make operation `k` the next step: by itself (`helpersFrom < 0`), or else after an
    /// unknown-outcome operation from its helper chains, starting with the `helpersFrom`th.
    private mutating func tryCall(_ k: Int, helpersFrom: Int) -> Bool {
        let op = ops[k].op
        var helper = helpersFrom
        if helper < 0 {
            if let newState = start.step(op, from: state) {
                // Legal as it is: no unknown-outcome operation placed before it could matter.
                guard remember(k, newState) else { return false }
                push(Step(entry: Int32(2 * k), state: state, kind: .known), newState: newState)
                return true
            }
            helper = 0
        }
        let helpers = pool.helperCount(for: op)
        guard helper < helpers else { return false }
        let deadline = firstReturnTime()
        // A delete that found the key: if an anonymous write is available, it is the only one
        // worth trying (see `UnknownPool`), and it is helper 0.
        var onlyFirst = false
        if case .delete(existed: true) = op, let anonymous = pool.anonymousChain,
           let u = pool.next(inChain: anonymous), ops[u].invoke <= deadline {
            onlyFirst = true
        }
        while helper < (onlyFirst ? 1 : helpers) {
            let chain = pool.helperChain(for: op, helper)
            if let u = pool.next(inChain: chain), ops[u].invoke <= deadline {
                let between = ops[u].op.effect!
                if let newState = start.step(op, from: between), remember(k, newState, alsoUsing: u) {
                    push(Step(entry: Int32(2 * u), state: state, kind: .unknown, helper: Int32(helper), chain: Int32(chain)),
                         newState: between)
                    push(Step(entry: Int32(2 * k), state: state, kind: .known), newState: newState)
                    return true
                }
            }
            helper += 1
        }
        return false
    }

    /// Records in the memo the configuration with `k` done, `newState`, and `u` used too (if not
    /// -1); false if it was explored already.
    private mutating func remember(_ k: Int, _ newState: Int32, alsoUsing u: Int = -1) -> Bool {
        let hash = (setHash ^ zobrist[k]) ^ splitMix64(UInt64(UInt32(bitPattern: newState)) | 0x1_0000_0000)
        let word = k >> 6, bit: UInt64 = 1 << UInt64(k & 63)
        var base = fullWords
        while base < done.count && done[base] | unknownMask[base] | (base == word ? bit : 0) == .max { base += 1 }
        return memo.insert(hash: hash, state: newState, done: done, extra: k, base: base, end: max(lastWord, word + 1),
                           used: used, extraUsed: u < 0 ? -1 : Int(pool.usedIndex[u]))
    }

    /// The completion time of the first return entry in the list: operations invoked after it
    /// cannot go next.
    private func firstReturnTime() -> UInt64 {
        var entry = list.first
        while entry >= 0 && entry & 1 == 0 { entry = list.after(entry) }
        return entry < 0 ? .max : ops[entry >> 1].complete ?? .max
    }

    private mutating func push(_ step: Step, newState: Int32) {
        let k = Int(step.entry >> 1)
        var step = step
        step.fullWords = Int32(fullWords)
        step.lastWord = Int32(lastWord)
        stack.append(step)
        state = newState
        if step.kind == .unknown {
            let u = Int(pool.usedIndex[k])
            used[u >> 6] |= 1 << UInt64(u & 63)
            precondition(pool.next(inChain: Int(step.chain)) == k, "not the chain's next operation")
            pool.use(chain: Int(step.chain))
        } else {
            done[k >> 6] |= 1 << UInt64(k & 63)
            while fullWords < done.count && done[fullWords] | unknownMask[fullWords] == .max { fullWords += 1 }
            lastWord = max(lastWord, (k >> 6) + 1)
            setHash ^= zobrist[k]
            if step.kind == .known && !ops[k].optional { requiredLeft -= 1 }
            list.lift(Int(step.entry))
        }
    }

    private mutating func pop() -> Step? {
        guard let step = stack.popLast() else { return nil }
        let k = Int(step.entry >> 1)
        state = step.state
        fullWords = Int(step.fullWords)
        lastWord = Int(step.lastWord)
        if step.kind == .unknown {
            let u = Int(pool.usedIndex[k])
            used[u >> 6] &= ~(1 << UInt64(u & 63))
            let undone = pool.unuse(chain: Int(step.chain))
            precondition(undone == k, "chains are undone in order")
        } else {
            done[k >> 6] &= ~(1 << UInt64(k & 63))
            setHash ^= zobrist[k]
            if step.kind == .known && !ops[k].optional { requiredLeft += 1 }
            list.unlift(Int(step.entry))
        }
        return step
    }

    /// Sort key of an entry: (infinite, time, is return, operation).
    private static func entryKey(_ entry: Int32, _ ops: [TimedOperation]) -> (Int, UInt64, Int32, Int32) {
        let op = ops[Int(entry >> 1)]
        if entry & 1 == 0 { return (0, op.invoke, 0, entry >> 1) }
        if let complete = op.complete { return (0, complete, 1, entry >> 1) }
        return (1, 0, 1, entry >> 1)
    }
}

/// SplitMix64's output function: a cheap, well-mixed 64-bit hash.
@inline(__always)
func splitMix64(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

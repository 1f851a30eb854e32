/// One operation as a search sees it: a model operation and its real-time interval.
struct TimedOperation: Equatable {
    var op: ModelOperation
    var invoke: UInt64
    /// nil: completes at +infinity. Unknown-outcome operations always do: any linearization
    /// point after the invocation is allowed and, since they need no particular state, so is
    /// being linearized last, after everything observed, which is the same as never.
    var complete: UInt64?
    /// An optional operation may also be left out (it took effect outside the window being
    /// checked); if it is not, it must be linearized, with its recorded result, by `complete`.
    var optional = false

    /// Whether the operation may still be running at time `t` (calls and returns at equal times
    /// count as overlapping, as in the search's entry order).
    func isRunning(at t: UInt64) -> Bool {
        complete.map { $0 >= t } ?? true
    }

    /// This operation as part of a window it may lie partly outside of. An unknown-outcome
    /// operation already may take effect anywhere after its invocation, or never.
    func optional(completingAtInfinity: Bool) -> TimedOperation {
        if op.isUnknown { return self }
        return TimedOperation(op: op, invoke: invoke, complete: completingAtInfinity ? nil : complete, optional: true)
    }
}

/// The operations of one key, sorted by invocation time, with values interned.
///
/// Windows over this history (`problem(start:end:)`) are what the shrinking search checks.
struct KeyHistory {
    let key: String
    /// The recorded operations that matter to the check (unknown-outcome gets are dropped), in
    /// invocation order; `operations[i]` is the recording of `timed[i]`.
    let operations: [Operation]
    let timed: [TimedOperation]
    let initial: Int32
    /// `values[id]` is the value with id `id`; `values[0]` is nil (absent).
    let values: [[UInt8]?]

    init(key: String, operations recorded: [Operation], initial: [UInt8]?) {
        // Sort by invocation, then id, then recording order, so windows are reproducible.
        let checked = recorded.enumerated().compactMap { index, op in op.normalized.map { (index, $0) } }
            .sorted { a, b in (a.1.invoke, a.1.id, a.0) < (b.1.invoke, b.1.id, b.0) }
        var table = ValueTable()
        self.timed = checked.map { _, op in
            precondition(op.key == key, "an operation of another key")
            return table.timed(op)
        }
        self.key = key
        self.operations = checked.map { recorded[$0.0] }
        self.initial = table.id(of: initial)
        self.values = table.values
    }

    var count: Int { timed.count }

    /// The whole history, from the known initial value.
    var whole: SearchProblem { problem(start: 0, end: count) }

    /// The window of operations `start..<end` (in invocation order), made into a history that is
    /// linearizable whenever the whole history is, so a window that fails proves the history fails:
    ///
    /// - It cuts time at `T1 = invoke(start)` and `T2 = invoke(end)` (+infinity when `end == count`).
    /// - Earlier operations still running at `T1` ("in flight") took effect either before `T1`,
    ///   or inside the window with their recorded results: they are optional operations.
    /// - Window operations still running at `T2` took effect either inside the window with their
    ///   recorded results, or after it: they are optional operations completing at +infinity.
    /// - The window starts from the known initial value if `start == 0`, else from any value an
    ///   earlier operation could have left: the initial value or one written before `T1`.
    ///
    /// Why that is sound: take a linearization of the whole history and the operations whose
    /// linearization points fall in `[T1, T2)`. Each was invoked before `T2`, so it is a window
    /// operation or in flight; every window operation that completed before `T2` is among them; the
    /// value before the first of them was left by the initial value or an operation invoked before
    /// `T1`. So they are a linearization of the window, leaving out only optional operations.
    func problem(start: Int, end: Int) -> SearchProblem {
        precondition(0 <= start && start <= end && end <= count, "window out of range")
        var ops: [TimedOperation] = []
        ops.reserveCapacity(end - start + 16)
        if start < end {
            for k in inFlight(at: start) { ops.append(timed[k].optional(completingAtInfinity: false)) }
            for k in start..<end {
                ops.append(isRunningAtEnd(k, end: end) ? timed[k].optional(completingAtInfinity: true) : timed[k])
            }
        }
        return SearchProblem(operations: ops, start: startState(at: start))
    }

    /// Indices of operations before `start` still running when `timed[start]` is invoked.
    func inFlight(at start: Int) -> [Int] {
        guard start > 0, start < count else { return [] }
        let t1 = timed[start].invoke
        return (0..<start).filter { timed[$0].isRunning(at: t1) }
    }

    /// Whether window operation `k` is still running at the window's end cut (so it is optional).
    func isRunningAtEnd(_ k: Int, end: Int) -> Bool {
        end < count && timed[k].isRunning(at: timed[end].invoke)
    }

    /// The values the key may hold at the start of a window beginning at `start`, in id order
    /// (absent first): the initial value, and every value written by an operation invoked
    /// earlier. (An over-approximation: which of them is right depends on the order of earlier
    /// operations, which the window leaves open.)
    func startValues(at start: Int) -> [[UInt8]?] {
        let members = startMembers(at: start)
        return members.indices.filter { members[$0] }.map { values[$0] }
    }

    func startState(at start: Int) -> StartState {
        if start == 0 { return .exactly(initial) }
        let members = startMembers(at: start)
        let ids = members.indices.filter { members[$0] }
        if ids.count == 1 { return .exactly(Int32(ids[0])) }
        return .oneOf(members: members, anyPresent: ids.contains { $0 != Int(ModelState.absent) })
    }

    /// `members[id]`: whether value id `id` is possible at the start of a window at `start`.
    private func startMembers(at start: Int) -> [Bool] {
        var members = [Bool](repeating: false, count: values.count)
        members[Int(initial)] = true
        if start > 0 {
            for k in 0..<start {
                if let effect = timed[k].op.effect { members[Int(effect)] = true }
            }
        }
        return members
    }
}

/// A history for one linearizability search.
struct SearchProblem: Equatable {
    var operations: [TimedOperation]
    var start: StartState
}

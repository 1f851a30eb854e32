/// A short stretch of one key's history that is not linearizable by itself, and so proves the whole
/// history is not: the part of a failure report a person reads.
///
/// The window is a contiguous run of the key's operations in invocation order, checked with three
/// allowances that keep it honest (each only allows more): earlier operations still running when
/// it starts (`inFlight`) may have taken effect before it or inside it; window operations still
/// running when it ends (`runningAtEnd`) may take effect inside it or after it; and it starts from
/// any value the key may have had then (`startValues`). `KeyHistory.problem(start:end:)` says why
/// that is sound, and `KeyHistory.smallestFailingWindow` how the window is chosen and what
/// "smallest" means.
public struct FailingWindow: Equatable, Sendable {
    public let key: String
    /// The window's operations as recorded, in invocation order.
    public let operations: [Operation]
    /// Earlier operations still running when the window's first operation was invoked: each
    /// took effect either before the window or inside it (with its recorded result).
    public let inFlight: [Operation]
    /// Positions in `operations` of those still running when the window ends, that is when the
    /// operation after it was invoked: each takes effect inside the window (with its recorded
    /// result) or after it.
    public let runningAtEnd: [Int]
    /// The values the key may have had when the window starts (nil: absent): the initial value,
    /// and every value written by an operation invoked earlier. The window fails from each.
    public let startValues: [[UInt8]?]
    /// False if some shrinking probe ran out of budget, so a smaller window may exist.
    public let isMinimal: Bool

    /// Checks the window by itself, as the shrinking search did: `.notLinearizable` unless
    /// `maxSteps` runs out first.
    public func check(maxSteps: Int = LinearizabilityChecker.defaultMaxStepsPerKey) -> CheckResult.Verdict {
        precondition(maxSteps > 0, "maxSteps must be positive")
        var budget = SearchBudget(stepsLeft: maxSteps, deadline: nil)
        switch LinearizationSearch.run(problem, budget: &budget) {
        case .linearizable: return .linearizable
        case .notLinearizable: return .notLinearizable
        case .exhausted: return .unknown
        }
    }

    /// The search problem the window stands for (the same one `KeyHistory.problem` built, up to
    /// the order of operations and the numbering of values).
    var problem: SearchProblem {
        var table = ValueTable()
        var ops: [TimedOperation] = []
        for op in inFlight {
            if let op = op.normalized { ops.append(table.timed(op).optional(completingAtInfinity: false)) }
        }
        let atEnd = Set(runningAtEnd)
        for (position, op) in operations.enumerated() {
            guard let op = op.normalized else { continue }
            let timed = table.timed(op)
            ops.append(atEnd.contains(position) ? timed.optional(completingAtInfinity: true) : timed)
        }
        return SearchProblem(operations: ops, start: table.startState(allowing: startValues))
    }

    /// The window as a text table: in-flight operations first, then the window's own.
    /// Operations with an unknown outcome show "?" as their completion.
    public func table() -> String {
        var rows: [[String]] = [["id", "client", "op", "value", "invoke", "complete", "note"]]
        for op in inFlight {
            rows.append(Self.row(op, note: "in flight at window start"))
        }
        let atEnd = Set(runningAtEnd)
        for (position, op) in operations.enumerated() {
            rows.append(Self.row(op, note: atEnd.contains(position) ? "running at window end" : ""))
        }
        if rows.dropFirst().allSatisfy({ $0.last!.isEmpty }) {
            rows = rows.map { Array($0.dropLast()) }
        }
        return TextTable.render(rows)
    }

    private static func row(_ op: Operation, note: String) -> [String] {
        let name: String, value: String
        switch op.kind {
        case .get(let read):
            name = op.page.map { "scan page \($0)" } ?? "get"
            value = read.map(ValueText.describe) ?? "(absent)"
        case .put(let written, let old):
            name = "put"
            value = ValueText.describe(written) + " (old: " + (old.map(ValueText.describe) ?? "absent") + ")"
        case .delete(let existed):
            name = "delete"
            value = existed ? "(existed)" : "(absent)"
        case .putUnknown(let written):
            name = "put?"
            value = ValueText.describe(written)
        case .deleteUnknown:
            name = "delete?"
            value = ""
        }
        return [String(op.id), String(op.client), name, value, String(op.invoke), op.complete.map { String($0) } ?? "?", note]
    }
}

/// Checks recorded histories of a key-value store for linearizability, the way Porcupine does:
/// the Wing–Gong search with Lowe's memoization (`LinearizationSearch`), one key at a time.
///
/// The model of one key is its value (`[UInt8]?`, nil when absent): `get(value)` is legal iff the
/// key holds `value`; `put(value, old)` iff it holds `old`, and then holds `value`;
/// `delete(existed)` iff its presence matches `existed`, and then it is absent. An operation with an
/// unknown outcome (`putUnknown`, `deleteUnknown`, or `complete == nil`) is treated as completing
/// at +infinity and needs no particular state, so it may take effect at any time after its
/// invocation, or never (being linearized last, after everything observed, is the same as never).
/// A get with an unknown outcome observed nothing and has no effect, so it is dropped.
///
/// Keys are independent in this model (linearizability is compositional), so each key is checked
/// on its own, which keeps every search small. `LinearizationSearch` describes the search and the
/// rules that keep unknown-outcome operations from making it exponential in their number.
public enum LinearizabilityChecker {
    /// About a second and 100 MB at most per key in a release build. A linearizable key of 2,000
    /// operations with ten concurrent clients takes around 100,000 steps; refuting one takes more,
    /// and more again with many operations of unknown outcome (a few million with 2% of them).
    public static let defaultMaxStepsPerKey = 10_000_000

    /// Checks `history`, key by key.
    ///
    /// - Parameters:
    ///   - initial: each key's value before the history (keys not in it start absent).
    ///   - timeLimit: wall-clock limit for the whole check, shrinking included; keys not decided in
    ///     time are `unknown`. Nil: only `maxStepsPerKey` bounds the work.
    ///   - maxStepsPerKey: search steps allowed for one key's check, and again for each probe of
    ///     the search for its smallest failing window; a key that needs more is `unknown`. This
    ///     makes the check always terminate, and (unlike a time limit) reproducibly.
    public static func check(
        _ history: [Operation],
        initial: [String: [UInt8]] = [:],
        timeLimit: Duration? = nil,
        maxStepsPerKey: Int = defaultMaxStepsPerKey
    ) -> CheckResult {
        precondition(maxStepsPerKey > 0, "maxStepsPerKey must be positive")
        let deadline = timeLimit.map { ContinuousClock.now.advanced(by: $0) }
        var byKey: [String: [Operation]] = [:]
        for op in history { byKey[op.key, default: []].append(op) }

        var results: [CheckResult.KeyResult] = []
        for key in byKey.keys.sorted() {
            let recorded = byKey[key]!
            let keyHistory = KeyHistory(key: key, operations: recorded, initial: initial[key])
            var budget = SearchBudget(stepsLeft: maxStepsPerKey, deadline: deadline)
            let (outcome, frontier) = LinearizationSearch.runFindingFrontier(keyHistory.whole, budget: &budget)
            let steps = maxStepsPerKey - max(budget.stepsLeft, 0)
            let verdict: CheckResult.Verdict
            var window: FailingWindow?
            switch outcome {
            case .linearizable:
                verdict = .linearizable
            case .exhausted:
                verdict = .unknown
            case .notLinearizable:
                verdict = .notLinearizable
                window = keyHistory.smallestFailingWindow(maxSteps: maxStepsPerKey, deadline: deadline, hint: frontier)
            }
            results.append(CheckResult.KeyResult(
                key: key, verdict: verdict, operationCount: recorded.count, steps: steps, window: window))
        }
        return CheckResult(keys: results)
    }
}

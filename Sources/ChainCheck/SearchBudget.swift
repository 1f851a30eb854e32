/// How much work searches may do: a step count, and optionally a deadline shared by all of them.
struct SearchBudget {
    var stepsLeft: Int
    let deadline: ContinuousClock.Instant?

    /// Takes one step; false when the steps or the time are used up.
    @inline(__always)
    mutating func spend() -> Bool {
        stepsLeft -= 1
        if stepsLeft < 0 { return false }
        // Reading the clock costs far more than a step, so look only every 1024 steps.
        if stepsLeft & 1023 == 0, let deadline, ContinuousClock.now >= deadline { return false }
        return true
    }
}

enum SearchOutcome: Equatable {
    case linearizable
    case notLinearizable
    /// The budget ran out first.
    case exhausted
}

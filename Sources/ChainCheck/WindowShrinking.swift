extension KeyHistory {
    /// The smallest failing window of a history known not to be linearizable.
    ///
    /// Windows are contiguous runs `start..<end` of this key's operations in invocation order,
    /// checked as `problem(start:end:)` builds them. A window fails when that check finds it not
    /// linearizable; a failing window proves the whole history is not linearizable.
    ///
    /// "Smallest" means: of all failing windows, the one that ends earliest, and of those the one
    /// that starts latest. So it is minimal (dropping its first operation, or its last, leaves a
    /// window that does not fail), though not necessarily the failing window with the fewest
    /// operations (a later violation might span fewer).
    ///
    /// Failing is monotone: if `start..<end` fails, so does every window containing it (the proof in
    /// `problem(start:end:)` works the same from any containing window in place of the whole
    /// history). So both ends are found exactly by galloping and binary search. Probes that fail
    /// are the expensive ones (refuting means exhausting every way to order a window), so:
    /// the end is searched over windows from the beginning, galloping from `hint` (a time by
    /// which the whole history's search got stuck, see `LinearizationSearch.frontier`), which
    /// is usually right, so few long probes fail; the start by galloping back from the end, so
    /// that most probes check short windows, which are cheap even when they fail.
    ///
    /// A probe that runs out of budget counts as "does not fail", so the result always fails;
    /// `isMinimal` is false if any probe ran out.
    func smallestFailingWindow(maxSteps: Int, deadline: ContinuousClock.Instant?, hint: UInt64? = nil) -> FailingWindow {
        var allProbesFinished = true
        func fails(_ start: Int, _ end: Int) -> Bool {
            var budget = SearchBudget(stepsLeft: maxSteps, deadline: deadline)
            switch LinearizationSearch.run(problem(start: start, end: end), budget: &budget) {
            case .notLinearizable: return true
            case .linearizable: return false
            case .exhausted:
                allProbesFinished = false
                return false
            }
        }
        // Invariant: 0..<passingEnd does not fail (an empty window never fails), 0..<failingEnd does
        // (the caller found the whole history not linearizable).
        var passingEnd = 0, failingEnd = count
        if let hint {
            // The first window end the hint allows: the first operation invoked after it.
            let guess = timed.firstIndex { $0.invoke > hint } ?? count
            if guess < count && !fails(0, guess) {
                passingEnd = guess
                var distance = 1
                while passingEnd + distance < failingEnd {
                    if fails(0, passingEnd + distance) {
                        failingEnd = passingEnd + distance
                        break
                    }
                    passingEnd += distance
                    distance *= 2
                }
            } else {
                failingEnd = guess
                var distance = 1
                while failingEnd - distance > passingEnd {
                    if !fails(0, failingEnd - distance) {
                        passingEnd = failingEnd - distance
                        break
                    }
                    failingEnd -= distance
                    distance *= 2
                }
            }
        }
        while failingEnd - passingEnd > 1 {
            let mid = passingEnd + (failingEnd - passingEnd) / 2
            if fails(0, mid) { failingEnd = mid } else { passingEnd = mid }
        }
        let end = failingEnd
        // Invariant: failingStart..<end fails, passingStart..<end does not (it is empty at first).
        var failingStart = 0, passingStart = end
        var distance = 1
        while distance < end {
            if fails(end - distance, end) {
                failingStart = end - distance
                break
            }
            passingStart = end - distance
            distance *= 2
        }
        while passingStart - failingStart > 1 {
            let mid = failingStart + (passingStart - failingStart) / 2
            if fails(mid, end) { failingStart = mid } else { passingStart = mid }
        }
        return window(start: failingStart, end: end, isMinimal: allProbesFinished)
    }

    func window(start: Int, end: Int, isMinimal: Bool) -> FailingWindow {
        FailingWindow(
            key: key,
            operations: Array(operations[start..<end]),
            inFlight: inFlight(at: start).map { operations[$0] },
            runningAtEnd: (start..<end).filter { isRunningAtEnd($0, end: end) }.map { $0 - start },
            startValues: startValues(at: start),
            isMinimal: isMinimal)
    }
}

/// What `LinearizabilityChecker.check` found, key by key.
public struct CheckResult: Equatable, Sendable {
    public enum Verdict: String, Equatable, Sendable {
        case linearizable
        case notLinearizable = "not linearizable"
        /// The search ran out of steps or time before deciding.
        case unknown
    }

    public struct KeyResult: Equatable, Sendable {
        public let key: String
        public let verdict: Verdict
        /// Operations recorded for the key (including reads of unknown outcome, which the check
        /// drops because they observed nothing).
        public let operationCount: Int
        /// Search steps the whole-history check took (not counting the search for `window`).
        public let steps: Int
        /// For a key that is not linearizable: its smallest failing window.
        public let window: FailingWindow?
    }

    /// One result per key of the history, sorted by key.
    public let keys: [KeyResult]

    /// Not linearizable if any key is not; else unknown if any key is; else linearizable.
    public var verdict: Verdict {
        if keys.contains(where: { $0.verdict == .notLinearizable }) { return .notLinearizable }
        if keys.contains(where: { $0.verdict == .unknown }) { return .unknown }
        return .linearizable
    }

    public var isLinearizable: Bool { verdict == .linearizable }

    /// The keys that are not linearizable, sorted.
    public var failingKeys: [String] { keys.filter { $0.verdict == .notLinearizable }.map(\.key) }

    public subscript(key: String) -> KeyResult? {
        keys.first { $0.key == key }
    }

    /// A report for people: a summary line, one line per key that is not linearizable or unknown,
    /// and the smallest failing window of each key that is not linearizable.
    public func describe() -> String {
        func count(_ verdict: Verdict) -> Int { keys.filter { $0.verdict == verdict }.count }
        var lines = ["linearizability: \(verdict.rawValue) (\(keys.count) keys: \(count(.linearizable)) linearizable, "
            + "\(count(.notLinearizable)) not linearizable, \(count(.unknown)) unknown; "
            + "\(keys.reduce(0) { $0 + $1.operationCount }) operations)"]
        for result in keys where result.verdict != .linearizable {
            lines.append("")
            lines.append("key \(quoted(result.key)): \(result.verdict.rawValue) "
                + "(\(result.operationCount) operations, \(result.steps) search steps)")
            guard let window = result.window else { continue }
            let values = window.startValues.map { ValueText.describe($0) }.joined(separator: ", ")
            lines.append("smallest failing window: \(window.operations.count) operations"
                + (window.inFlight.isEmpty ? "" : " and \(window.inFlight.count) in flight")
                + (window.isMinimal ? "" : " (not shown minimal: the search budget ran out while shrinking)")
                + "; the key's value at its start: " + (window.startValues.count == 1 ? values : "one of " + values))
            lines.append(window.table())
        }
        return lines.joined(separator: "\n")
    }

    private func quoted(_ key: String) -> String {
        "\"" + key + "\""
    }
}

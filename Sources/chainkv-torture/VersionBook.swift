import ChainCheck
import Foundation

/// Which value each version of a key had, as the workload's clients learned it (a versioned read
/// returned it, or a conditional put created it), and the failed conditional writes waiting for
/// the value of the version they reported: resolved when the history is read, once every
/// client's answers are in (the write that made a version may be answered after a failure that
/// reported it). A version the clients never learned leaves its failure with nothing to check.
final class VersionBook: @unchecked Sendable {
    private struct Failure {
        var op: HistoryOp
        var current: UInt64
        var value: [UInt8]?
        var expected: [UInt8]?
    }

    private let lock = NSLock()
    private var values: [String: [UInt64: [UInt8]]] = [:]
    private var failures: [Failure] = []

    func learn(key: String, version: UInt64, value: [UInt8]) {
        lock.withLock { values[key, default: [:]][version] = value }
    }

    /// `op` is the operation with any kind; its kind is decided when resolved.
    func failed(_ op: HistoryOp, current: UInt64, value: [UInt8]?, expected: [UInt8]?) {
        lock.withLock { failures.append(Failure(op: op, current: current, value: value, expected: expected)) }
    }

    /// The failed conditional writes as the checker takes them (those with a known current value).
    var resolvedFailures: [HistoryOp] {
        lock.withLock {
            failures.compactMap { f in
                let current: ConditionalWrite.CurrentValue
                if f.current == 0 {
                    current = .known(nil)
                } else if let v = values[f.op.key]?[f.current] {
                    current = .known(v)
                } else {
                    current = .unknown
                }
                guard let kind = ConditionalWrite(value: f.value, expected: f.expected, outcome: .failed(current: current)).operation else { return nil }
                var op = f.op
                op.kind = kind
                return op
            }
        }
    }
}

/// Checks a watcher's stream against the history of the writes, for a watcher that started before
/// any write (from version 0 in every chain), so that its stream should hold every committed change
/// of its keys, once, in each chain's sequence order. Every put of a checked workload writes a
/// value of its own, so a put event names the write that made it; deletes carry no value and are
/// counted instead (each delete that commits, of a present key or not, makes exactly one change).
///
/// Sound for writes with an unknown outcome: they may appear or not, at most once. A gap
/// (`RecordedWatch.Resume`) excuses the writes invoked before the watcher resumed, since only those
/// can have committed in it.
public enum WatchChecker {
    public struct Defect: Equatable, Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            /// A version delivered twice, or a put's value more often than it was written.
            case duplicate
            /// A chain's versions not strictly increasing.
            case outOfOrder
            /// An event no write explains: a value nobody put on that key, more deletions than
            /// deletes, or a key the watcher does not watch.
            case madeUp
            /// An acknowledged write the stream lacks.
            case missing
            /// A key's changes in an order the writes contradict (real time, or a put's old value).
            case misordered
            /// The key's last change differs from the value read after the run.
            case final
        }

        public var kind: Kind
        public var detail: String
        public var description: String { "\(kind.rawValue): \(detail)" }
    }

    /// `finals`: the values read after the run, once the watcher caught up (nil: no such check).
    public static func check(_ stream: RecordedWatch, history: [Operation], finals: [String: [UInt8]?]? = nil) -> [Defect] {
        var defects: [Defect] = []
        func add(_ kind: Defect.Kind, _ detail: String) { defects.append(Defect(kind: kind, detail: "\(stream.name): \(detail)")) }

        // (a, b) Each version once; each chain's versions strictly increasing.
        var seen = Set<UInt64>()
        var last: [UInt64: UInt64] = [:]
        for (i, e) in stream.events.enumerated() {
            if !seen.insert(e.version).inserted {
                add(.duplicate, "version \(e.version) (\(e.key)) delivered again at event \(i)")
            } else if let previous = last[stream.chain(of: e.version)], e.version <= previous {
                add(.outOfOrder, "version \(e.version) (\(e.key)) at event \(i) after version \(previous) of the same chain")
            }
            last[stream.chain(of: e.version)] = max(last[stream.chain(of: e.version)] ?? 0, e.version)
        }

        let writes = Writes(history.filter { stream.watches($0.key) })
        var positions: [String: [Int]] = [:]  // each key's events, by index in the stream
        var delivered: [String: [[UInt8]: Int]] = [:]
        // (c) Nothing made up.
        for (i, e) in stream.events.enumerated() {
            guard stream.watches(e.key) else {
                add(.madeUp, "event \(i) is of \(e.key), which the watcher does not watch")
                continue
            }
            positions[e.key, default: []].append(i)
            if let value = e.value {
                let times = (delivered[e.key]?[value] ?? 0) + 1
                delivered[e.key, default: [:]][value] = times
                let written = writes.puts[e.key]?[value]?.count ?? 0
                if written == 0 {
                    add(.madeUp, "event \(i): \(e.key) = \(ValueText.describe(value)) (version \(e.version)), a value no put of \(e.key) wrote")
                } else if times > written {
                    add(.duplicate, "event \(i): \(e.key) = \(ValueText.describe(value)) delivered \(times) times, written \(written)")
                }
            }
        }
        for (key, indices) in positions {
            let deletions = indices.filter { stream.events[$0].value == nil }.count
            let deletes = writes.deletes[key]?.count ?? 0
            if deletions > deletes { add(.madeUp, "\(deletions) deletions of \(key) delivered, but only \(deletes) deletes of it were made") }
        }

        // (d) Every acknowledged write there, unless a gap may hold it.
        let since = stream.lastResume
        for (key, byValue) in writes.puts {
            for (value, ops) in byValue {
                let required = ops.filter { $0.complete != nil && $0.invoke >= since }.count
                if min(required, 1) > delivered[key]?[value] ?? 0 {
                    add(.missing, "the acknowledged put \(key) = \(ValueText.describe(value)) (invoked at \(ops[0].invoke)) never arrived")
                }
            }
        }
        for (key, ops) in writes.deletes {
            let required = ops.filter { $0.complete != nil && $0.invoke >= since }.count
            let deletions = (positions[key] ?? []).filter { stream.events[$0].value == nil }.count
            if deletions < required { add(.missing, "\(required) acknowledged deletes of \(key), but \(deletions) deletions arrived") }
        }

        // (e) Each key's changes in an order the writes allow.
        for (key, indices) in positions {
            misordered(key, indices, stream, writes).forEach { add(.misordered, $0) }
        }
        if let finals, stream.resumes.isEmpty {
            for (key, final) in finals where stream.watches(key) {
                let lastValue = positions[key]?.last.flatMap { stream.events[$0].value }
                if lastValue != final {
                    add(.final, "the last change of \(key) is \(ValueText.describe(lastValue)), the final read \(ValueText.describe(final))")
                }
            }
        }
        return defects
    }

    /// The writes of the watched keys: puts by key and value, and deletes by key (certainly
    /// failed conditional writes are reads in the history, so they are not here).
    struct Writes {
        var puts: [String: [[UInt8]: [Operation]]] = [:]
        var deletes: [String: [Operation]] = [:]

        init(_ ops: [Operation]) {
            for op in ops {
                switch op.kind {
                case .put(let value, _), .putUnknown(let value): puts[op.key, default: [:]][value, default: []].append(op)
                case .delete, .deleteUnknown: deletes[op.key, default: []].append(op)
                case .get: break
                }
            }
        }
    }

    /// A key's events (`indices` into the stream) against its writes: a put's event comes after
    /// the events of the puts acknowledged before it was invoked; an acknowledged put follows
    /// the value it replaced (its `old`) unless a gap lies between; and enough deletions lie
    /// before (after) it for the acknowledged deletes that completed before it was invoked
    /// (were invoked after it completed).
    static func misordered(_ key: String, _ indices: [Int], _ stream: RecordedWatch, _ writes: Writes) -> [String] {
        var found: [String] = []
        let events = indices.map { stream.events[$0] }
        // The put each value event stands for (values are unique per write; with several, the widest window).
        let puts: [(at: Int, invoke: UInt64, complete: UInt64, op: Operation)] = events.enumerated().compactMap { n, e in
            guard let value = e.value, let ops = writes.puts[key]?[value], let first = ops.first else { return nil }
            let invoke = ops.map(\.invoke).min()!
            let complete = ops.map { $0.complete ?? .max }.max()!
            return (n, invoke, complete, first)
        }
        // Real time: no put later in the stream may have been acknowledged before this one was invoked.
        var earliestLater = UInt64.max
        for p in puts.reversed() {
            if earliestLater < p.invoke {
                found.append("\(key) = \(ValueText.describe(p.op.kind.value)) arrives before a put acknowledged at \(earliestLater), before it was invoked (\(p.invoke))")
            }
            earliestLater = min(earliestLater, p.complete)
        }
        // Old values: an acknowledged put saw what the key held just before it in sequence order.
        for p in puts {
            guard case .put(_, let old) = p.op.kind, writes.puts[key]?[p.op.kind.value!]?.count == 1 else { continue }
            let previous = p.at - 1
            if stream.gap(between: previous >= 0 ? indices[previous] : -1, and: indices[p.at]) { continue }
            let before = previous >= 0 ? events[previous].value : nil
            if before != old {
                found.append("\(key) = \(ValueText.describe(p.op.kind.value)) replaced \(ValueText.describe(old)), but the stream has \(ValueText.describe(before)) before it")
            }
        }
        // Deletions around each put, for the acknowledged deletes that cannot have fallen into a gap.
        let since = stream.lastResume
        let acked = (writes.deletes[key] ?? []).filter { $0.complete != nil && $0.invoke >= since }
        let completes = acked.map { $0.complete! }.sorted(), invokes = acked.map(\.invoke).sorted()
        var nilsBefore = [0]  // deletions among the first n events
        for e in events { nilsBefore.append(nilsBefore.last! + (e.value == nil ? 1 : 0)) }
        for p in puts {
            let before = nilsBefore[p.at]
            let after = nilsBefore[events.count] - nilsBefore[p.at + 1]
            let needBefore = completes.prefix { $0 < p.invoke }.count
            let needAfter = p.complete == .max ? 0 : invokes.count - invokes.prefix { $0 <= p.complete }.count
            if before < needBefore || after < needAfter {
                found.append("\(key) = \(ValueText.describe(p.op.kind.value)) has \(before) deletions before and \(after) after it, "
                             + "but \(needBefore) deletes completed before it and \(needAfter) started after it")
            }
        }
        return found
    }
}

extension Operation.Kind {
    /// The value a put writes.
    var value: [UInt8]? {
        switch self {
        case .put(let value, _), .putUnknown(let value): return value
        default: return nil
        }
    }
}

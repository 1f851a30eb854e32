/// Acknowledged writes that a later read contradicts: the durability check of the fault runner,
/// next to (and simpler to read than) the linearizability verdict.
public enum LostWrites {
    /// Counts acknowledged writes that are lost: a read invoked after the write completed, or the
    /// final value read after the run (`finals`, a read after everything), saw another value that
    /// no write which could be ordered after it wrote. A write can be ordered after `w` unless it
    /// completed before `w` was invoked; one with an unknown outcome always can.
    ///
    /// O(n log n) per key: histories of the fault runner hold tens of thousands of operations per
    /// key, and the direct quadratic (or cubic) scan took many minutes.
    public static func count(_ history: [Operation], finals: [String: [UInt8]?]) -> Int {
        var byKey: [String: [Operation]] = [:]
        for op in history { byKey[op.key, default: []].append(op) }
        var lost = 0
        for (key, ops) in byKey { lost += count(ops, final: finals[key]) }
        return lost
    }

    /// One key. `final`: nil when there was no final read; `.some(nil)` when it found the key absent.
    static func count(_ ops: [Operation], final: [UInt8]??) -> Int {
        // The latest a write of each value can take effect; a value nobody wrote (the initial
        // absence, say) never can after anything, so it stays at 0.
        var latestEnd: [[UInt8]?: UInt64] = [:]
        for o in ops {
            guard let value = writtenValue(o) else { continue }
            latestEnd[value] = max(latestEnd[value] ?? 0, o.complete ?? .max)
        }
        var reads: [(invoke: UInt64, value: [UInt8]?)] = ops.compactMap { r in
            guard case .get(let v) = r.kind, r.complete != nil else { return nil }
            return (r.invoke, v)
        }
        if let final { reads.append((.max, final)) }
        reads.sort { $0.invoke < $1.invoke }
        // For every suffix of the reads: the two values, distinct, whose writes end earliest. A
        // write is contradicted by the suffix after it iff one of them other than its own value
        // ends no later than it was invoked.
        var suffix = [Earliest](repeating: Earliest(), count: reads.count + 1)
        for i in stride(from: reads.count - 1, through: 0, by: -1) {
            suffix[i] = suffix[i + 1].adding(reads[i].value, end: latestEnd[reads[i].value] ?? 0)
        }
        var lost = 0
        for w in ops {
            guard let wrote = writtenValue(w), let done = w.complete else { continue }
            let first = firstIndex(in: reads, after: done)
            let candidate = suffix[first].first?.value == .some(wrote) ? suffix[first].second : suffix[first].first
            if let c = candidate, c.end <= w.invoke { lost += 1 }
        }
        return lost
    }

    /// The two earliest-ending read values, distinct, of a suffix of reads.
    struct Earliest {
        var first: (value: [UInt8]?, end: UInt64)?
        var second: (value: [UInt8]?, end: UInt64)?

        func adding(_ value: [UInt8]?, end: UInt64) -> Earliest {
            var e = self
            if let f = e.first, f.value == value {
                if end < f.end { e.first = (value, end) }
            } else if let s = e.second, s.value == value {
                if end < s.end { e.second = (value, end) }
            } else if e.second == nil || end < e.second!.end {
                e.second = (value, end)
            }
            if let f = e.first, let s = e.second, s.end < f.end { (e.first, e.second) = (s, f) }
            if e.first == nil { (e.first, e.second) = (e.second, nil) }
            return e
        }
    }

    /// Index of the first read invoked after `time` (reads sorted by invoke).
    private static func firstIndex(in reads: [(invoke: UInt64, value: [UInt8]?)], after time: UInt64) -> Int {
        var low = 0, high = reads.count
        while low < high {
            let mid = (low + high) / 2
            if reads[mid].invoke > time { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// The value a write leaves (`.some(nil)` for a delete), nil for a read.
    static func writtenValue(_ op: Operation) -> [UInt8]?? {
        switch op.kind {
        case .put(let v, _), .putUnknown(let v): return .some(v)
        case .delete, .deleteUnknown: return .some(nil)
        case .get: return nil
        }
    }
}

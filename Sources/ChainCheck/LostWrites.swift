/// Acknowledged writes that a later read contradicts: the durability check of the fault runner,
/// next to (and simpler to read than) the linearizability verdict.
public enum LostWrites {
    /// Counts acknowledged writes that are lost: a read invoked after the write completed, or the
    /// final value read after the run (`finals`, a read after everything), saw another value that
    /// no write which could be ordered after it wrote. A write can be ordered after `w` unless it
    /// completed before `w` was invoked; one with an unknown outcome always can.
    public static func count(_ history: [Operation], finals: [String: [UInt8]?]) -> Int {
        var byKey: [String: [Operation]] = [:]
        for op in history { byKey[op.key, default: []].append(op) }
        var lost = 0
        for w in history {
            guard let wrote = writtenValue(w), let done = w.complete else { continue }
            let ops = byKey[w.key] ?? []
            var seen: [[UInt8]?] = ops.compactMap { r in
                guard case .get(let v) = r.kind, r.complete != nil, r.invoke > done else { return nil }
                return .some(v)
            }
            if let final = finals[w.key] { seen.append(final) }
            let contradicted = seen.contains { value in
                value != wrote && !ops.contains { o in
                    o.id != w.id && writtenValue(o) == .some(value) && (o.complete ?? .max) > w.invoke
                }
            }
            if contradicted { lost += 1 }
        }
        return lost
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

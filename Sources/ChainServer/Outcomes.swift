import ChainCore
import ChainStorage
import ChainWire

/// Conversions of a client write's outcome between the core (`Reply`), storage (`StoredOutcome`)
/// and the wire (`OutcomeRecord`, in snapshots).
enum Outcomes {
    /// What storage keeps of `reply`, the reply of the write `seq` made for `request`.
    static func stored(_ reply: Reply, seq: UInt64, request: RequestKey) -> StoredOutcome {
        let kind: StoredOutcome.Kind
        var old: [UInt8]?
        switch reply {
        case .put(old: nil): kind = .putNewKey
        case .put(old: let value?) where value.count <= CoreLimits.outcomeValueKeptMax:
            kind = .putOldValue
            old = value
        case .put: kind = .putOldValueNotKept
        case .delete(existed: true): kind = .deleteExisted
        case .delete(existed: false): kind = .deleteAbsent
        case .value, .error:
            preconditionFailure("the core stores only the outcome of an applied write, not \(reply)")
        }
        return StoredOutcome(seq: seq, client: request.client, request: request.seq, kind: kind, old: old)
    }

    /// The reply a retry of the stored write gets.
    static func reply(_ o: StoredOutcome) -> (RequestKey, Reply) {
        let reply: Reply
        switch o.kind {
        case .putNewKey: reply = .put(old: nil)
        case .putOldValue: reply = .put(old: o.old)
        case .putOldValueNotKept: reply = .error(.oldValueNotKept)
        case .deleteExisted: reply = .delete(existed: true)
        case .deleteAbsent: reply = .delete(existed: false)
        }
        return (RequestKey(client: o.client, seq: o.request), reply)
    }

    static func record(_ o: StoredOutcome) -> OutcomeRecord {
        OutcomeRecord(seq: o.seq, request: RequestID(client: o.client, seq: o.request), kind: o.kind.rawValue, old: o.old)
    }

    /// nil for a kind this version does not know (the decoder already refuses those).
    static func stored(_ r: OutcomeRecord) -> StoredOutcome? {
        guard let kind = StoredOutcome.Kind(rawValue: r.kind), (kind == .putOldValue) == (r.old != nil) else { return nil }
        return StoredOutcome(seq: r.seq, client: r.request.client, request: r.request.seq, kind: kind, old: r.old)
    }

    /// The request of every outcome `store` keeps and its write's seq, oldest first, as the core
    /// takes them at start.
    static func load(from store: Store) throws -> [(RequestKey, seq: UInt64)] {
        var result: [(RequestKey, seq: UInt64)] = []
        var after: UInt64 = 0
        while true {
            let page = try store.outcomes(afterSeq: after, limit: 4096)
            guard let last = page.last else { return result }
            result.append(contentsOf: page.map { (RequestKey(client: $0.client, seq: $0.request), $0.seq) })
            after = last.seq
        }
    }
}

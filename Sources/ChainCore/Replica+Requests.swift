/// The client requests a replica remembers (`requests`, `requestOrder`), so that a retry of a
/// write it already took is answered, never applied twice: while in flight it waits for the
/// write, once committed it gets the first reply from the history (`historyReply`) or from the
/// outcome on disk (`replyStored`).
extension Replica {
    mutating func remember(_ request: RequestID, seq: UInt64) {
        if requests.updateValue(seq, forKey: request) == nil { requestOrder.append((request, seq)) }
        forgetOldRequests()
    }

    /// Keeps the requests of the last `requestsRememberedMax` sequence numbers up to `received`.
    /// Storage keeps outcomes for the same window up to its `last_seq` (≤ received), a superset,
    /// so `replyStored` always finds its row.
    mutating func forgetOldRequests() {
        let window = UInt64(CoreLimits.requestsRememberedMax)
        while let oldest = requestOrder.first, oldest.seq + window <= received {
            requestOrder.removeFirst()
            if requests[oldest.request] == oldest.seq { requests[oldest.request] = nil }
        }
    }
}

/// The client requests a replica remembers (`requests`, a `RequestTable`), so that a retry of a
/// write it already took is answered, never applied twice: while in flight it waits for the
/// write, once committed it gets the first reply from the history (`historyReply`) or from the
/// outcome on disk (`replyStored`).
extension Replica {
    /// Forgets before it remembers: the ring then never holds more than the window's
    /// `requestsRememberedMax` entries, and its storage stays at that power of two (`Ring`).
    mutating func remember(_ request: RequestID, seq: UInt64) {
        forgetOldRequests(through: seq)
        requests.remember(request, seq: seq)
        // One entry per seq, all within the window's seqs.
        assert(requests.order.count <= CoreLimits.requestsRememberedMax, "the remembered requests stay within their window")
    }

    /// Keeps the requests of the last `requestsRememberedMax` sequence numbers up to `received`
    /// (or `newest`, a write being sequenced). Storage keeps outcomes for the same window up to
    /// its `last_seq` (≤ received), a superset, so `replyStored` always finds its row.
    mutating func forgetOldRequests(through newest: UInt64 = 0) {
        let window = UInt64(CoreLimits.requestsRememberedMax)
        let newest = Swift.max(received, newest)
        while let seq = requests.order.first?.seq, seq + window <= newest {
            requests.forgetOldest()
        }
    }
}

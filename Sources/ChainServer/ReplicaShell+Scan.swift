import ChainCore
import ChainWire

/// Range reads at the head: one page of committed state per request.
extension ReplicaShell {
    /// Answers a page of `range`: the store's rows, read in the same event as the core's
    /// in-flight writes are overlaid on them (`Replica.readRange`), so the page is committed
    /// state at one point in sequence order. `owns`: keys of this chain's slots (sharded).
    func scan(_ range: KeyRange, limit: Int, owns: (String) -> Bool, ref: ClientRef) {
        let started = context.loop.now
        let message: Message
        do {
            let byteLimit = WireLimits.scanPageBytesMax
            // Only a head answers (the core refuses otherwise): do not read for nothing.
            let stored: (rows: [RangeRow], complete: Bool) = inPlace { $0.role.isHead }
                ? try storage.rows(in: range, limit: limit, byteLimit: byteLimit) : (rows: [], complete: true)
            let now = context.nowMs
            switch inPlace({ $0.readRange(range, stored: stored.rows, storedComplete: stored.complete, owns: owns,
                                          limit: limit, byteLimit: byteLimit, now: now) }) {
            case .page(let page):
                let rows = page.rows.map { RangeRow(key: $0.key, value: versions.published($0.value)!) }
                message = .scanPage(rows: rows, next: page.next)
            case .error(let error):
                message = ReplyMessage.message(for: .error(error), addresses: context.addresses)
            }
        } catch {
            message = storageFailed(error)
        }
        context.outbox.reply(message, to: ref)
        context.metrics.request("scan", status: ServerMetrics.status(message), chain: metricsChain)
        context.metrics.latency("scan", since: started)
    }
}

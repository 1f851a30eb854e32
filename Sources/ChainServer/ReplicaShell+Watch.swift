import ChainCore
import ChainWire
import NIOCore

/// Watches: a member answers from the core's history of committed updates, at once when it holds
/// a matching change, else when one commits or the request's wait runs out (long polling). The
/// watcher resumes after the `through` of each answer, so a reconnect or a new head loses nothing
/// the history still holds, and it never gets a change twice.
extension ReplicaShell {
    /// The slot move barriers a watch from "now" is told of: the newest ones the core keeps, those
    /// of the moves that may still be ending (moves run one at a time), and those a watcher
    /// resuming from a cursor moved past a compaction may have skipped (`WatchOrder.resumed`).
    static let startBarriersMax = CoreLimits.barriersKeptMax

    func watch(_ range: KeyRange, after version: UInt64?, limit: Int, waitMs: UInt32, ref: ClientRef) {
        var after: UInt64?
        if let version {
            // Another chain's version names no sequence number here (`PublicVersions`).
            guard let seq = versions.seq(ofVersion: version) else {
                return reply(.error(.badRequest, "version \(version) is not one of chain \(metricsChain)"), to: ref, type: "watch")
            }
            after = seq
        }
        let through: UInt64
        switch answer(range, after: after, limit: limit, final: waitMs == 0) {
        case .reply(.changes(let events, let through)) where version == nil && events.isEmpty:
            // "Now": with the newest slot move barriers before it, so that a watcher starting
            // here, or resuming past a compaction, can keep a key's order across a move
            // (`WatchOrder`).
            let stable = core.stable
            let barriers = inPlace { $0.recentBarriers(max: Self.startBarriersMax) }.filter { $0.version <= stable }.map { change in
                var change = change
                change.version = versions.version(ofSeq: change.version)
                return change
            }
            return reply(.changes(events: barriers, through: through), to: ref, type: "watch")
        case .reply(let message): return reply(message, to: ref, type: "watch")
        case .wait(let point): through = point
        }
        guard !watches.isFull, watches.count(connection: ref.connection) < ParkedWatches.perConnectionMax else {
            return reply(.error(.overloaded, "too many watches waiting on this chain (\(ParkedWatches.perChainMax), or \(ParkedWatches.perConnectionMax) of one connection); retry"), to: ref, type: "watch")
        }
        watches.park(.init(ref: ref, range: range, after: through, limit: limit), stable: core.stable, epoch: core.view.epoch)
        let timer = context.loop.scheduleTask(in: .milliseconds(Int64(waitMs))) { [weak self] in
            guard let self, let watch = self.watches.remove(ref, cancelTimer: false) else { return }
            guard case .reply(let message) = self.answer(watch.range, after: watch.after, limit: watch.limit, final: true) else {
                preconditionFailure("a final answer always replies")
            }
            self.reply(message, to: ref, type: "watch")
            self.context.outbox.flush()
        }
        watches.setTimer(ref, timer)
    }

    /// Answers every waiting watch before the shell closes (the server stops, or the chain moved
    /// away from it), so its watchers look for the chain's head at once.
    func releaseWatches() {
        for ref in watches.waiting.keys {
            _ = watches.remove(ref)
            reply(.error(.unavailable, "this server stopped serving the chain; watch at its head"), to: ref, type: "watch")
        }
        context.outbox.flush()
    }

    /// Looks at every waiting watch again (new commits, or a new view): answers those with a
    /// change, a compaction or a refusal; the others wait on, resuming from the newest point.
    ///
    /// `newEpoch`: every waiting watch is answered, with no change if it has none, so that each
    /// watcher learns how far it has seen. The chain's members changed: a server that joined has
    /// no history from before it joined, and if it becomes head later, a watcher still holding
    /// an older point would be told "compacted" although nothing it watches changed in between
    /// (the fault runner's narrow watchers were, dozens of times a run).
    func wakeWatches(newEpoch: Bool) {
        for (ref, watch) in watches.waiting {
            switch answer(watch.range, after: watch.after, limit: watch.limit, final: newEpoch) {
            case .reply(let message):
                _ = watches.remove(ref)
                reply(message, to: ref, type: "watch")
            case .wait(let through):
                watches.update(ref, after: through)
            }
        }
    }

    /// What a watch gets now.
    private enum WatchAnswer {
        case reply(Message)
        /// No change yet (and not `final`): wait, resuming after `through` (sequence number),
        /// past the updates already looked at.
        case wait(through: UInt64)
    }

    /// The answer to a watch now, from one read of the history. Only a head answers, as for
    /// reads: a server that stopped being head (it may no longer learn of commits) sends its
    /// watchers to the new one.
    private func answer(_ range: KeyRange, after: UInt64?, limit: Int, final: Bool) -> WatchAnswer {
        guard inPlace({ $0.role.isHead }) else {
            return .reply(ReplyMessage.message(for: .error(.notHead(head: core.view.head)), addresses: context.addresses))
        }
        // A head whose lease lapsed may have been replaced without knowing it: its history would
        // stop growing, and its watchers would wait on it. "unavailable" sends them to look again.
        guard context.nowMs < core.leaseUntil else {
            return .reply(ReplyMessage.message(for: .error(.noLease), addresses: context.addresses))
        }
        switch inPlace({ $0.committedChanges(after: after, matching: range.contains, limit: limit, byteLimit: WireLimits.scanPageBytesMax) }) {
        case .compacted(let oldest):
            return .reply(.compacted(oldest: versions.version(ofSeq: oldest)))
        case .changes(let changes, let through):
            guard !changes.isEmpty || final else { return .wait(through: through) }
            let published = changes.map { change in
                var change = change
                change.version = versions.version(ofSeq: change.version)
                return change
            }
            return .reply(.changes(events: published, through: versions.version(ofSeq: through)))
        }
    }

    private func reply(_ message: Message, to ref: ClientRef, type: String) {
        context.outbox.reply(message, to: ref)
        context.metrics.request(type, status: ServerMetrics.status(message), chain: metricsChain)
    }
}

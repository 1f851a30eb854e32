import ChainCore
import ChainStorage
import ChainWire
import NIOCore

/// Carrying out the replica core's actions, in list order (the order is part of the core's
/// contract, see `ReplicaAction`).
///
/// The rule this file enforces: an epoch is durable before anything is sent in it. The core
/// emits `recordEpoch(e)` before any action of epoch `e`; `recordEpoch` blocks the loop for one
/// fsync (on reconfiguration only), and `send` refuses, as a broken invariant, a forward, ack or
/// hello of an epoch above `durableEpoch`. A restarted node then never accepts messages of an
/// epoch older than one it already acted in.
extension ReplicaShell {
    func perform(_ actions: [ReplicaAction]) {
        for action in actions { send(action) }
        // New commits (or a new view) may answer watches waiting for a change.
        if !watches.isEmpty, let newEpoch = watches.needsWake(stable: core.stable, epoch: core.view.epoch) { wakeWatches(newEpoch: newEpoch) }
    }

    private func send(_ action: ReplicaAction) {
        switch action {
        case .persist(let update, let outcome):
            storage.persist(StoredUpdate(update, outcome: outcome))
        case .forward(let to, let epoch, let update):
            checkDurable(epoch, "forward")
            // Dropped while the link is down: the core resends everything unacknowledged on link-up.
            guard let link = successor, link.node == to else { return }
            link.send(.forward(epoch: epoch, update))
        case .ack(let to, let epoch, let seq):
            checkDurable(epoch, "ack")
            context.outbox.write(.ack(epoch: epoch, seq: seq), requestID: 0, to: inbound[to])
        case .reply(let ref, let reply):
            let write = writes.finish(ref)
            let message = ReplyMessage.message(for: reply, addresses: context.addresses, versioned: write?.versioned ?? false,
                                               versions: versions)
            if let write {
                context.metrics.latency(write.type, since: write.since)
                context.metrics.request(write.type, status: ServerMetrics.status(message), chain: metricsChain)
            }
            context.outbox.reply(message, to: ref)
        case .replyStored(let ref, let seq):
            // A retry of a committed write: its outcome is on disk here. A put whose old value
            // was too large to keep (or a failed read) is answered "applied, old value not kept".
            let stored: WriteOutcome?
            do {
                stored = try storage.outcome(seq: seq)
            } catch {
                logger.error("cannot read a stored request outcome", metadata: ["seq": "\(seq)", "error": "\(error)"])
                stored = nil
            }
            send(.reply(ref, stored?.reply ?? .error(.oldValueNotKept)))
        case .connectSuccessor(let node):
            openSuccessorLink(node)
        case .closeInbound(let node):
            logger.info("closing inbound link refused by the current view", metadata: ["peer": "\(node)", "view": "\(core.view)"])
            inbound[node]?.close(promise: nil)
        case .successorTooFarBehind(let node, let position):
            // Its catch-up would need updates no longer kept in memory. It cannot commit anything
            // from here; dropping the link makes the leader see it stall and re-add it by transfer.
            logger.error("successor is behind the updates kept in memory; it needs a state transfer",
                         metadata: ["successor": "\(node)", "position": "\(position)", "stable": "\(core.stable)"])
            successor?.close()
        case .recordEpoch(let epoch):
            // Blocks the loop for one fsync: nothing of the new epoch may be sent before the epoch
            // is durable, and blocking is the simplest way to guarantee it.
            do {
                try storage.recordEpoch(epoch)
                durableEpoch = max(durableEpoch, epoch)
            } catch {
                context.diskFaults.failed(error, while: "recording epoch \(epoch)")
                logger.critical("cannot record the epoch; stopping", metadata: ["error": "\(error)"])
                fail()
            }
        }
    }

    /// The rule above, checked before anything of `epoch` is sent.
    func checkDurable(_ epoch: UInt64, _ what: String) {
        precondition(epoch <= durableEpoch, "\(what) of epoch \(epoch) before it is durable (\(durableEpoch))")
    }

    /// Opens a fresh link to `node` (closing any current one, even to the same node: the core asks
    /// for a new link on every configuration, so both ends re-exchange positions).
    private func openSuccessorLink(_ node: NodeID?) {
        successor?.close()
        successor = nil
        splice = nil
        guard let node else { return }
        // Writes from here on commit only once the new successor has caught up: that wait is the
        // pause a splice costs, logged when it ends.
        splice = (node, context.loop.now, core.received)
        successor = connectSuccessor(node, self)
    }
}

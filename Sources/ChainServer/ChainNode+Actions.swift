import ChainCore
import ChainStorage
import ChainWire
import NIOCore

extension ChainNode {
    /// Carries out the core's actions in list order (the order is part of the core's contract).
    func perform(_ actions: [ReplicaAction]) {
        for action in actions { send(action) }
    }

    /// Updates to persist are handed to the committer once per turn of the event loop, not one
    /// by one: a burst of forwards read in one turn then wakes the committer once and becomes one
    /// group commit (one fsync), where handing over the first alone made it commit that one and
    /// the rest in a second batch. Flushed by `flush()` and by a task queued with the first one.
    func queuePersist(_ update: StoredUpdate) {
        if persistQueue.isEmpty {
            loop.execute { self.submitPersists() }
        }
        persistQueue.append(update)
    }

    /// Hands the queued updates to the committer, in order.
    func submitPersists() {
        loop.preconditionInEventLoop()
        guard !persistQueue.isEmpty else { return }
        committer.submit(contentsOf: persistQueue)
        persistQueue.removeAll(keepingCapacity: true)
    }

    func send(_ action: ReplicaAction) {
        switch action {
        case .persist(let u, let outcome):
            queuePersist(StoredUpdate(u, outcome: outcome))
        case .forward(let to, let epoch, let u):
            // Dropped while the link is down: the core resends everything unacknowledged on link-up.
            guard let link = successorLink, link.node == to else { return }
            link.send(.forward(epoch: epoch, u))
        case .ack(let to, let epoch, let seq):
            write(.ack(epoch: epoch, seq: seq), requestID: 0, to: inbound[to])
        case .reply(let ref, let reply):
            let message = Self.message(for: reply, addresses: addresses)
            metrics.replied(ref, message)
            writesInFlight[ref.connection]?.remove(ref.request)
            write(message, requestID: ref.request, to: clients[ref.connection])
        case .replyStored(let ref, let seq):
            // A retry of a committed write: its outcome is on disk here. A put whose old value
            // was too large to keep (or a failed read) is answered "applied, old value not kept".
            let stored: WriteOutcome?
            do {
                stored = try readStore().outcome(seq: seq)
            } catch {
                logger.error("cannot read a stored request outcome", metadata: ["seq": "\(seq)", "error": "\(error)"])
                stored = nil
            }
            send(.reply(ref, stored?.reply ?? .error(.oldValueNotKept)))
        case .connectSuccessor(let node):
            connectSuccessor(node)
        case .closeInbound(let node):
            logger.info("closing inbound link refused by the current view", metadata: ["peer": "\(node)", "view": "\(replica.view)"])
            inbound[node]?.close(promise: nil)
        case .successorTooFarBehind(let node, let position):
            // Its catch-up would need updates no longer kept in memory. It cannot commit anything
            // from here; dropping the link makes the leader see it stall and re-add it by transfer.
            logger.error("successor is behind the updates kept in memory; it needs a state transfer",
                         metadata: ["successor": "\(node)", "position": "\(position)", "stable": "\(replica.stable)"])
            successorLink?.close()
        case .recordEpoch(let epoch):
            // Blocks the loop for one fsync, on reconfiguration only: nothing of the new epoch may be
            // sent before the epoch is durable, and blocking is the simplest way to guarantee it.
            do {
                try withWriter { try $0.setEpoch(epoch) }
            } catch {
                logger.critical("cannot record the epoch; stopping", metadata: ["error": "\(error)"])
                exitRequested?(false)
            }
        }
    }

    /// Opens a fresh link to `node` (closing any current one, even to the same node: the core asks
    /// for a new link on every configuration, so both ends re-exchange positions).
    private func connectSuccessor(_ node: NodeID?) {
        successorLink?.close()
        successorLink = nil
        splice = nil
        guard let node else { return }
        // Writes from here on commit only once the new successor has caught up: that wait is the
        // pause a splice costs, logged when it ends.
        splice = (node, NIODeadline.now(), replica.received)
        successorLink = SuccessorLink(node: node, owner: self)
        successorLink?.start()
    }

    static func message(for reply: Reply, addresses: [NodeID: NodeAddress]) -> Message {
        switch reply {
        case .value(let v): return .value(v)
        case .put(let old): return .putResult(old: old)
        case .delete(let existed): return .deleteResult(existed: existed)
        case .error(.notHead(nil)): return .error(.unavailable, "no chain is configured yet")
        case .error(.notHead(let head?)):
            let where_ = addresses[head].map { "\($0.host):\($0.port)" } ?? head
            return .error(.notHead, "not the head; the head is \(head) at \(where_)")
        case .error(.chainChanged): return .error(.chainChanged, "the chain changed while the write was in flight; retry")
        case .error(.overloaded): return .error(.overloaded, "too many writes in flight (inflightMax \(CoreLimits.inflightMax)); retry")
        case .error(.oldValueNotKept):
            return .error(.oldValueNotKept, "this put was applied earlier and is not applied again; its old value (over "
                          + "\(CoreLimits.outcomeValueKeptMax) bytes) was not kept across a restart")
        case .error(.noLease): return .error(.unavailable, "the head's ZooKeeper lease lapsed; it serves reads again once renewed")
        }
    }
}

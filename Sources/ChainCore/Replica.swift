/// The chain-replication protocol of one server, as a pure state machine.
///
/// The same type plays every role: the role follows from the current `ChainView`. Sequence
/// numbers split a node's history into three parts:
///
///     1 ... stable          committed: on disk on this node and every node after it
///     stable+1 ... received  in flight: held here (the paper's *sent* list), not yet committed
///     durable               how far local storage has fsynced (stable ≤ durable ≤ received)
///
/// At the tail `stable == durable`. Elsewhere `stable == min(durable, successorAcked)`.
///
/// Reads at the head see committed state only: for a key with writes in flight, `pendingKeys`
/// keeps the key's committed value, because local storage may already hold an uncommitted one.
/// For any key not in `pendingKeys`, local storage holds exactly the committed value.
public struct Replica: Sendable {
    public let id: NodeID
    public private(set) var view: ChainView
    /// Highest sequence number held (assigned by this head or received from the predecessor).
    public private(set) var received: UInt64
    /// Highest sequence number fsynced locally.
    public private(set) var durable: UInt64
    /// Highest sequence number known committed from this node to the tail.
    public private(set) var stable: UInt64
    /// Highest sequence number the current successor acknowledged.
    private var successorAcked: UInt64
    /// Inbound peer links that are up: an ack can go to a new predecessor as soon as it is named.
    private var inboundPeers: Set<NodeID> = []
    /// Updates in (stable, received], oldest first.
    private var inflight = Ring<InflightEntry>()
    private var pendingKeys: [String: PendingKey] = [:]

    struct InflightEntry: Sendable {
        var update: Update
        /// Set only at the head that sequenced the write: where the reply goes.
        var client: ClientRef?
        /// The key's value just before this update in sequence order.
        var old: [UInt8]?
    }

    struct PendingKey: Sendable {
        /// The value after every committed update: what a read returns.
        var committed: [UInt8]?
        /// The value after every update held: what the next write reports as old.
        var latest: [UInt8]?
        /// Updates to this key in flight.
        var count: Int
    }

    /// - Parameter lastSeq: the highest sequence number in local storage. Everything in storage
    ///   counts as committed at start: a node restarts with nothing in flight.
    public init(id: NodeID, lastSeq: UInt64, view: ChainView = .empty) {
        self.id = id
        self.view = view
        self.received = lastSeq
        self.durable = lastSeq
        self.stable = lastSeq
        self.successorAcked = lastSeq
    }

    public var role: Role { view.role(of: id) }
    public var inflightCount: Int { inflight.count }

    /// Whether an event about `key` needs the key's value from local storage. When a write to the
    /// key is in flight, storage may hold an uncommitted value and the core answers from memory.
    public func needsStoredValue(for key: String) -> Bool { pendingKeys[key] == nil }

    /// Serves a read at the head from committed state. `stored` is consulted only when
    /// `needsStoredValue(for:)` is true. Reads change no state, so they bypass `on(_:)`.
    public func read(_ key: String, stored: [UInt8]?) -> Reply {
        guard role.isHead else { return .error(.notHead(head: view.head)) }
        if let pending = pendingKeys[key] { return .value(pending.committed) }
        return .value(stored)
    }

    public mutating func on(_ event: ReplicaEvent) -> [ReplicaAction] {
        var actions: [ReplicaAction] = []
        switch event {
        case .viewChanged(let newView):
            onViewChanged(newView, &actions)
        case .clientWrite(let client, let key, let value, let stored):
            onClientWrite(client, key: key, value: value, stored: stored, &actions)
        case .forward(let from, let epoch, let update, let stored):
            onForward(from: from, epoch: epoch, update, stored: stored, &actions)
        case .ack(let from, let epoch, let seq):
            guard epoch == view.epoch, from == view.successor(of: id) else { break }
            // An ack beyond what we sent would mean the successor holds updates we never had:
            // impossible in one chain, so it is a bug or a forged message. Ignore it.
            guard seq <= received else { break }
            if seq > successorAcked { successorAcked = seq }
            advanceStable(&actions)
        case .persisted(let seq):
            precondition(seq <= received, "storage cannot persist what the core never handed it")
            if seq > durable { durable = seq }
            advanceStable(&actions)
        case .successorLinkUp(let node):
            guard node == view.successor(of: id) else { break }
            // A fresh connection may have lost anything sent on the old one: resend all the
            // successor has not acknowledged. It discards duplicates by sequence number.
            inflight.forEach { entry in
                if entry.update.seq > successorAcked {
                    actions.append(.forward(to: node, epoch: view.epoch, entry.update))
                }
            }
        case .predecessorLink(let node, let up):
            if up {
                inboundPeers.insert(node)
                // Tell a (re)connected predecessor where we stand, so it can trim and resend.
                if node == view.predecessor(of: id) { sendAck(to: node, &actions) }
            } else {
                inboundPeers.remove(node)
            }
        }
        return actions
    }

    // MARK: - Events

    private mutating func onViewChanged(_ newView: ChainView, _ actions: inout [ReplicaAction]) {
        guard newView.epoch > view.epoch else { return }
        let old = view
        view = newView
        actions.append(.recordEpoch(newView.epoch))

        let oldSuccessor = old.successor(of: id)
        let newSuccessor = newView.successor(of: id)
        if newSuccessor != oldSuccessor || !newView.contains(id) {
            // A new successor holds at least what we committed (it was downstream of, or is, the
            // node that acknowledged it), so resending from `stable` loses nothing.
            successorAcked = stable
            actions.append(.connectSuccessor(newSuccessor))
        }
        if old.role(of: id).isHead && !newView.role(of: id).isHead {
            // Writes this node sequenced may still commit through the rest of the chain, but it can
            // no longer learn of it. The client must retry (a retry is recognized by request id).
            failClientWrites(.chainChanged, &actions)
        }
        if !newView.contains(id) { return }
        advanceStable(&actions)
        if let predecessor = newView.predecessor(of: id), predecessor != old.predecessor(of: id),
           inboundPeers.contains(predecessor) {
            sendAck(to: predecessor, &actions)
        }
    }

    private mutating func onClientWrite(_ client: ClientRef, key: String, value: [UInt8]?, stored: [UInt8]?,
                                        _ actions: inout [ReplicaAction]) {
        guard role.isHead else {
            actions.append(.reply(client, .error(.notHead(head: view.head))))
            return
        }
        let old = pendingKeys[key]?.latest ?? stored
        if value == nil && old == nil {
            // Deleting a key that does not exist changes nothing: answering at once is linearizable
            // (the committed state already has no such key) and spares a round trip of the chain.
            actions.append(.reply(client, .delete(existed: false)))
            return
        }
        guard inflight.count < CoreLimits.inflightMax else {
            actions.append(.reply(client, .error(.overloaded)))
            return
        }
        let update = Update(seq: received + 1, key: key, value: value)
        accept(update, client: client, old: old, stored: stored, &actions)
    }

    private mutating func onForward(from: NodeID, epoch: UInt64, _ update: Update, stored: [UInt8]?,
                                    _ actions: inout [ReplicaAction]) {
        guard epoch == view.epoch, from == view.predecessor(of: id) else {
            // A late message of an older view, or a sender whose view is ahead of ours. Closing the
            // link makes it reconnect and resend once both sides agree on the view.
            actions.append(.closeInbound(from))
            return
        }
        if update.seq <= received { return }  // duplicate of a resend: already held
        guard update.seq == received + 1 else {
            // A gap: something sent earlier was lost. Reconnecting resends from our ack.
            actions.append(.closeInbound(from))
            return
        }
        accept(update, client: nil, old: pendingKeys[update.key]?.latest ?? stored, stored: stored, &actions)
    }

    // MARK: - Pipeline

    /// Takes `update` into the in-flight list, forwards it and hands it to storage.
    private mutating func accept(_ update: Update, client: ClientRef?, old: [UInt8]?, stored: [UInt8]?,
                                 _ actions: inout [ReplicaAction]) {
        precondition(update.seq == received + 1, "updates are accepted in sequence order without gaps")
        received = update.seq
        inflight.append(InflightEntry(update: update, client: client, old: old))
        if var pending = pendingKeys[update.key] {
            pending.latest = update.value
            pending.count += 1
            pendingKeys[update.key] = pending
        } else {
            pendingKeys[update.key] = PendingKey(committed: stored, latest: update.value, count: 1)
        }
        if let successor = view.successor(of: id) {
            actions.append(.forward(to: successor, epoch: view.epoch, update))
        }
        actions.append(.persist(update))
    }

    /// Moves `stable` forward as far as local durability and the successor's acks allow, then
    /// answers clients (head) or acknowledges upstream (everyone else).
    private mutating func advanceStable(_ actions: inout [ReplicaAction]) {
        guard view.contains(id) else { return }
        let target = role.isTail ? durable : min(durable, successorAcked)
        guard target > stable else { return }
        precondition(target <= durable, "nothing is committed before it is on this node's disk")
        while let first = inflight.first, first.update.seq <= target {
            let entry = inflight.removeFirst()
            commit(entry, &actions)
        }
        stable = target
        // Sent even while the link is down (the shell drops it then): the ack on reconnect repeats it.
        if let predecessor = view.predecessor(of: id) {
            sendAck(to: predecessor, &actions)
        }
    }

    private mutating func commit(_ entry: InflightEntry, _ actions: inout [ReplicaAction]) {
        let key = entry.update.key
        if var pending = pendingKeys[key] {
            pending.count -= 1
            if pending.count == 0 {
                pendingKeys[key] = nil
            } else {
                pending.committed = entry.update.value
                pendingKeys[key] = pending
            }
        }
        if let client = entry.client {
            let reply: Reply = entry.update.value == nil ? .delete(existed: entry.old != nil) : .put(old: entry.old)
            actions.append(.reply(client, reply))
        }
    }

    private mutating func sendAck(to predecessor: NodeID, _ actions: inout [ReplicaAction]) {
        precondition(stable <= durable, "an ack promises the update is on disk here")
        actions.append(.ack(to: predecessor, epoch: view.epoch, seq: stable))
    }

    private mutating func failClientWrites(_ error: ChainError, _ actions: inout [ReplicaAction]) {
        var entries: [InflightEntry] = []
        inflight.forEach { entries.append($0) }
        inflight.removeAll()
        for var entry in entries {
            if let client = entry.client {
                actions.append(.reply(client, .error(error)))
                entry.client = nil
            }
            inflight.append(entry)
        }
    }
}

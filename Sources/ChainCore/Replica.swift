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
/// Reads at the head see committed state only: for a key with writes in flight, its `pending`
/// state keeps the key's committed value, because local storage may already hold an uncommitted
/// one. For any other key, local storage holds exactly the committed value; and for a key written
/// lately, so does its `cached` state, so the shell reads storage only for a key with no state
/// (`needsStoredValue(for:)`).
///
/// A fresh link to the successor carries nothing until the successor's first ack says how far it
/// is; then everything after that point is resent from `recent` (committed) and `inflight`. This
/// one rule covers a reconnect, a new successor after a middle failure, and a new tail that
/// joined with a snapshot: duplicates are dropped by sequence number downstream.
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
    public private(set) var successorAcked: UInt64
    /// False from a successor link-up until the successor's first ack: forwarding before knowing
    /// its position would make it see a gap.
    public private(set) var successorReady = false
    /// Ticks up to which reads may be answered (see `read`).
    public private(set) var leaseUntil: UInt64 = 0
    /// Set when the server stops: no renewal may bring the lease back (see `leaseRevoked`).
    private var leaseRevoked = false
    /// Inbound peer links that are up: an ack can go to a new predecessor as soon as it is named.
    private var inboundPeers: Set<NodeID> = []
    /// Updates in (stable, received], oldest first.
    private(set) var inflight = Ring<InflightEntry>()
    /// The most recent committed updates, for catching a successor up; also the history watches
    /// read (`committedChanges`). Consecutive sequence numbers, empty after a (re)start.
    var recent = Ring<Update>()
    /// The seq of the newest update in `recent` (when it holds any): its updates are consecutive,
    /// so the oldest one's seq follows from the count (`recentFirstSeq`).
    var recentLastSeq: UInt64 = 0
    /// Beside each update in `recent`, what it replaced (for a retry's reply: `historyReply`).
    var recentEntries = Ring<HistoryEntry>()
    var recentBytes = 0
    var recentReplacedBytes = 0
    /// Entries before this seq have had their replaced values dropped (`recentReplacedBytesMax`).
    var replacedKeptFrom: UInt64 = 0
    /// Per key with writes in flight or written lately (`KeyState`):
    /// - `pending`: its writes in flight, and its committed value for reads;
    /// - `cached`: its newest committed change, the key's committed value, which is also what
    ///   local storage holds for it while no write of it is in flight (storage changes only by the
    ///   updates the core hands it, committed in order). A replica then answers `stored` from
    ///   memory for a key written lately (every forwarded write of a hot key) and reads storage
    ///   only for the others. Bounded on its own (`CoreLimits.valueCacheBytesMax`, at most
    ///   `recentMax` keys, each changed within about the last `recentMax` commits), through
    ///   `valueOrder`;
    ///   empty after a restart or a snapshot (a new core), and emptied when storage is replaced
    ///   (`storageReplaced()`).
    var keyStates: [ByteKey: KeyState] = [:]
    /// Each key with a `cached` state, once, in the order it was recorded: the eviction order.
    var valueOrder = Ring<ByteKey>()
    /// Beside each record of `valueOrder`, the key's seq when recorded: when it is `recentMax`
    /// commits old the key leaves, or is recorded again if it changed since (`cacheValue`).
    var valueOrderSeqs = Ring<UInt64>()
    /// Bytes of the cached values in `keyStates` (`Replica.cachedBytes`).
    var valueBytes = 0
    /// The newest slot move barriers committed here, oldest first (versions are sequence
    /// numbers), at most `CoreLimits.barriersKeptMax`: kept after the history drops them, so a
    /// watcher resuming past a compaction still learns of a move it skipped (`recentBarriers`).
    var barrierLog: [Change] = []
    /// Set while a snapshot sent from this node may still need the history (`pinHistory`).
    var historyPin: HistoryPin?
    /// The token of the next pin: each pin has its own, so a late release of an older transfer's
    /// pin never releases a newer one (two pins can have the same seq when nothing committed
    /// between them).
    var nextPinToken: UInt64 = 1
    /// The update each recent client request made, for answering retries without applying them
    /// twice: a retry of one in flight waits for it; a retry of a committed one is answered from
    /// the history when it still holds the write (`historyReply`), else from the outcome storage
    /// keeps with the write (`replyStored`). Only the seq is kept here: old values up to 1 MiB
    /// for 65,536 requests would not fit any sane memory budget.
    var requests = RequestTable()

    /// - Parameter lastSeq: the highest sequence number in local storage. Everything in storage
    ///   counts as committed at start: a node restarts with nothing in flight (a restarted server
    ///   re-enters a chain only through a snapshot, or as the sole restarter of a dead chain).
    /// - Parameter requests: the requests whose outcomes local storage keeps, with the seq of each
    ///   one's write, oldest first: retries of those writes are answered, never applied again.
    public init(id: NodeID, lastSeq: UInt64, view: ChainView = .empty, requests: [(RequestID, seq: UInt64)] = []) {
        self.id = id
        self.view = view
        self.received = lastSeq
        self.durable = lastSeq
        self.stable = lastSeq
        self.successorAcked = lastSeq
        for (request, seq) in requests where seq <= lastSeq { remember(request, seq: seq) }
    }

    public var role: Role { view.role(of: id) }
    public var inflightCount: Int { inflight.count }

    public mutating func on(_ event: ReplicaEvent) -> [ReplicaAction] {
        var actions: [ReplicaAction] = []
        switch event {
        case .viewChanged(let newView):
            onViewChanged(newView, &actions)
        case .clientWrite(let client, let key, let value, let stored, let request, let ifVersion, let move, let hashed):
            assert(hashed.map { $0.key == key } ?? true, "the hashed key is the write's")
            onClientWrite(client, key: hashed ?? ByteKey(key), value: value, stored: stored, request: request,
                          ifVersion: ifVersion, move: move, &actions)
        case .forward(let from, let epoch, let update, let stored, let hashed):
            assert(hashed.map { $0.key == update.key } ?? true, "the hashed key is the update's")
            onForward(from: from, epoch: epoch, update, hashed: hashed, stored: stored, &actions)
        case .ack(let from, let epoch, let seq):
            guard let successor = view.successor(of: id), from == successor else { break }
            // An ack beyond what we hold would mean the successor has updates we never had:
            // impossible in one chain, so it is a bug or a forged message. Ignore it.
            guard seq <= received else { break }
            // As a position, an ack of any epoch is good: it says how far the successor's own log
            // goes. Requiring our epoch lost the one position ack of a link when the view changed
            // again with the same successor, and the link then stalled forever (torture, seed 2).
            if !successorReady { catchUp(successor, from: seq, &actions) }
            // The joiner holds everything the catch-up from the pin sent: the pin has done its job.
            if let pin = historyPin, let releaseAt = pin.releaseAt, seq >= releaseAt { unpinHistory(pin.token) }
            // As a commit it counts only within one configuration: "durable downstream" means the
            // downstream nodes of our view.
            guard epoch == view.epoch else { break }
            if seq > successorAcked { successorAcked = seq }
            advanceStable(&actions)
        case .persisted(let seq):
            precondition(seq <= received, "storage cannot persist what the core never handed it")
            if seq > durable { durable = seq }
            advanceStable(&actions)
        case .successorLinkUp(let node):
            guard node == view.successor(of: id) else { break }
            successorReady = false
        case .predecessorLink(let node, let up):
            if up {
                inboundPeers.insert(node)
                // Tell a (re)connected predecessor where we stand: that is where it resends from.
                if node == view.predecessor(of: id) { sendAck(to: node, &actions) }
            } else {
                inboundPeers.remove(node)
            }
        case .lease(let until):
            if !leaseRevoked { leaseUntil = max(leaseUntil, until) }
        case .leaseRevoked:
            leaseRevoked = true
            leaseUntil = 0
        case .refresh:
            // Repeated now and then by the shell: a lost position ack can never stall a link.
            if let predecessor = view.predecessor(of: id), inboundPeers.contains(predecessor) {
                sendAck(to: predecessor, &actions)
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

        // Every new configuration starts the successor link afresh, even with the same successor:
        // both ends re-learn where the other stands from a new link's first ack. Keeping the old
        // link across epochs left a predecessor waiting for a position ack that had already gone
        // by (torture, seed 3). Commits so far stand (they are on every node of the configuration
        // they committed in); what the successor lacks it gets on catch-up from its first ack.
        successorAcked = stable
        successorReady = false
        actions.append(.connectSuccessor(newView.successor(of: id)))
        if old.role(of: id).isHead && !newView.role(of: id).isHead {
            // Writes this node sequenced may still commit through the rest of the chain, but it can
            // no longer learn of it. The client retries with the same request id at the new head.
            failClientWrites(.chainChanged, &actions)
        }
        if !newView.contains(id) { return }
        advanceStable(&actions)
        // Tell the predecessor of this configuration where we stand, if its link is up (else we
        // do when it connects): that ack is its position for catch-up.
        if let predecessor = newView.predecessor(of: id), inboundPeers.contains(predecessor), !actionsContainAck(actions) {
            sendAck(to: predecessor, &actions)
        }
    }

    private mutating func onClientWrite(_ client: ClientRef, key byteKey: ByteKey, value: [UInt8]?, stored: VersionedValue?,
                                        request: RequestID?, ifVersion: UInt64?, move: MoveMark?, _ actions: inout [ReplicaAction]) {
        guard role.isHead else {
            actions.append(.reply(client, .error(.notHead(head: view.head))))
            return
        }
        if let request, let seq = requests.seq(of: request) {
            // A retry of a write this chain already took: never apply it twice.
            if seq <= stable {
                // Committed: answered from the history if it still holds the write, else from
                // the outcome on this node's disk.
                if let reply = historyReply(seq: seq) {
                    actions.append(.reply(client, reply))
                } else {
                    actions.append(.replyStored(client, seq: seq))
                }
            } else {
                let index = Int(seq - stable - 1)
                precondition(index >= 0 && index < inflight.count && inflight[offset: index].update.seq == seq,
                             "an in-flight request's update is in the in-flight list")
                inflight[offset: index].clients.append(client)
            }
            return
        }
        if let to = view.handoff {
            // Draining for a head handoff: what is in flight commits, nothing new is sequenced.
            actions.append(.reply(client, .error(.handingOff(to: to))))
            return
        }
        // One lookup for the whole write: nothing changes `keyStates` before `accept` uses it.
        let index = keyStates.index(forKey: byteKey)
        let state = index.map { keyStates.values[$0] }
        let pending = state?.pending
        let stored = pending == nil ? Self.committedValue(state, stored: stored) : nil
        // A delete of a key that does not exist goes down the chain like any write. It used to be
        // answered at once ("changes nothing"), but that answer is a read, and it was given
        // without the read lease: a head cut off from ZooKeeper and already replaced went on
        // answering "absent" for keys the new head had written (torture, CI seed 3 on 5 chains:
        // one client saw two deletes find nothing while every other read the key's value).
        let old = pending.map { $0.latest } ?? stored
        guard inflight.count < CoreLimits.inflightMax else {
            actions.append(.reply(client, .error(.overloaded)))
            return
        }
        // A conditional write is checked here, against the state just before its own place in
        // sequence order (in-flight writes included: they come first in that order). A failed
        // one still goes down the chain as an update that changes nothing: its answer ("failed,
        // the version is V") is then given once committed, like a read in sequence order that no
        // lease is needed for, and every replica keeps it for retries.
        let update: Update
        if let ifVersion, old.version != ifVersion {
            update = Update(seq: received + 1, key: byteKey.key, value: nil, request: request, conditionFailed: old.version)
        } else {
            update = Update(seq: received + 1, key: byteKey.key, value: value, request: request, move: move)
        }
        accept(update, key: byteKey, at: index, clients: [client], old: old, stored: stored, &actions)
    }

    private mutating func onForward(from: NodeID, epoch: UInt64, _ update: Update, hashed: ByteKey?, stored: VersionedValue?,
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
        let key = hashed ?? ByteKey(update.key)
        let index = keyStates.index(forKey: key)
        let state = index.map { keyStates.values[$0] }
        if let pending = state?.pending {
            accept(update, key: key, at: index, clients: [], old: pending.latest, stored: nil, &actions)
        } else {
            let stored = Self.committedValue(state, stored: stored)
            accept(update, key: key, at: index, clients: [], old: stored, stored: stored, &actions)
        }
    }

    // MARK: - Pipeline

    /// Takes `update` into the in-flight list, forwards it and hands it to storage. `index`: the
    /// key's entry in `keyStates`, looked up by the caller with no change to the table since.
    private mutating func accept(_ update: Update, key: ByteKey, at index: Dictionary<ByteKey, KeyState>.Index?,
                                 clients: [ClientRef], old: VersionedValue?,
                                 stored: VersionedValue?, _ actions: inout [ReplicaAction]) {
        precondition(update.seq == received + 1, "updates are accepted in sequence order without gaps")
        assert(key.key == update.key, "the hashed key is the update's")
        assert(index.map { keyStates.keys[$0] == key } ?? (keyStates[key] == nil), "the index is the key's entry")
        received = update.seq
        let after = update.changesKey ? update.value.map { VersionedValue($0, version: update.seq) } : old
        let entry = InflightEntry(update: update, key: key, clients: clients, old: old, after: after)
        // Every replica computes the same outcome (same history), so any of them can answer a
        // retry after it restarts or becomes head. Taken from the entry before it moves into the
        // ring: `inflight.last!` copied the entry, seven references retained and released (cut 13).
        let outcome = update.request.map { WriteOutcome(reply: entry.reply, seq: update.seq, request: $0) }
        inflight.append(entry)
        // No second lookup: the entry is updated in place, or created with the committed value.
        if let index {
            keyStates.values[index].addWrite(after: after, committed: stored)
        } else {
            keyStates[key] = KeyState(pending: PendingKey(committed: stored, latest: after, count: 1), cached: nil)
        }
        if let request = update.request { remember(request, seq: update.seq) } else { forgetOldRequests() }
        if let successor = view.successor(of: id), successorReady {
            actions.append(.forward(to: successor, epoch: view.epoch, update))
        }
        actions.append(.persist(update, outcome: outcome))
    }

    /// Resends to a successor everything after the position it acknowledged.
    private mutating func catchUp(_ successor: NodeID, from position: UInt64, _ actions: inout [ReplicaAction]) {
        if position < received {
            let oldestHeld = recentFirstSeq ?? (inflight.isEmpty ? received + 1 : stable + 1)
            guard oldestHeld <= position + 1 else {
                // A pin at or before this position could not keep it: the joiner needs a new
                // snapshot, which pins anew.
                if let pin = historyPin, pin.from <= position + 1 { unpinHistory(pin.token) }
                actions.append(.successorTooFarBehind(successor, position: position))
                return
            }
            recent.forEach { u in
                if u.seq > position { actions.append(.forward(to: successor, epoch: view.epoch, u)) }
            }
            inflight.forEach { e in
                if e.update.seq > position { actions.append(.forward(to: successor, epoch: view.epoch, e.update)) }
            }
        }
        // A successor catching up from the pinned point (the joiner of the snapshot sent): the pin
        // goes when it acknowledges what was just sent (see `.ack`).
        if let pin = historyPin, position + 1 >= pin.from { historyPin?.releaseAt = received }
        successorReady = true
    }

    /// Moves `stable` forward as far as local durability and the successor's acks allow, then
    /// answers clients (head) or acknowledges upstream (everyone else).
    private mutating func advanceStable(_ actions: inout [ReplicaAction]) {
        guard view.contains(id) else { return }
        let target = role.isTail ? durable : min(durable, successorAcked)
        guard target > stable else { return }
        precondition(target <= durable, "nothing is committed before it is on this node's disk")
        // `inflight` holds stable+1 ... received in order, so the next entry's seq is known
        // without reading it: `inflight.first?.update.seq` copied the whole entry (seven
        // references retained and released, 0.9 % of a middle server's CPU; cut 16).
        var next = stable + 1
        while !inflight.isEmpty, next <= target {
            let entry = inflight.removeFirst()
            assert(entry.update.seq == next, "in-flight entries hold consecutive seqs after stable")
            commit(entry, &actions)
            next += 1
        }
        stable = target
        // Sent even while the link is down (the shell drops it then): the ack on reconnect repeats it.
        if let predecessor = view.predecessor(of: id) {
            sendAck(to: predecessor, &actions)
        }
    }

    private mutating func commit(_ entry: InflightEntry, _ actions: inout [ReplicaAction]) {
        // One lookup: the key's writes in flight and its cached value change together.
        if let index = keyStates.index(forKey: entry.key) {
            keyStates.values[index].commitWrite(after: entry.after)
            if entry.update.changesKey {
                cacheValue(of: entry.update, at: index)
            } else if keyStates.values[index].isEmpty {
                keyStates.remove(at: index)
            }
        } else {
            assertionFailure("a key with a write in flight has its state")
        }
        if !entry.clients.isEmpty {  // only at the head: the reply is not built for nobody
            let reply = entry.reply
            for client in entry.clients { actions.append(.reply(client, reply)) }
        }
        appendToHistory(entry.update, key: entry.key, old: entry.old)
    }

    private func actionsContainAck(_ actions: [ReplicaAction]) -> Bool {
        actions.contains { if case .ack = $0 { return true } else { return false } }
    }

    private mutating func sendAck(to predecessor: NodeID, _ actions: inout [ReplicaAction]) {
        precondition(stable <= durable, "an ack promises the update is on disk here")
        actions.append(.ack(to: predecessor, epoch: view.epoch, seq: stable))
    }

    private mutating func failClientWrites(_ error: ChainError, _ actions: inout [ReplicaAction]) {
        for i in 0..<inflight.count {
            for client in inflight[offset: i].clients { actions.append(.reply(client, .error(error))) }
            inflight[offset: i].clients = []
        }
    }
}

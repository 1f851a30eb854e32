/// The leader's reconfiguration decisions, as a pure state machine.
///
/// The leader owns the chain configuration stored in ZooKeeper. It writes a new configuration
/// only with a version-conditioned write, so a deposed leader's write fails (it is fenced), and
/// it keeps at most one write outstanding, deciding the next from the result. Repairs come before
/// joins; one join (state transfer) runs at a time.
public struct Leader: Sendable {
    public let config: Config
    /// The servers this chain is placed on, head first (`Placement`), in a cluster of several
    /// chains: only they form it and only they join it. nil: every live server (one chain).
    /// Changed by `placementChanged` (a replica moved to another server): the new server joins,
    /// then the one no longer placed leaves.
    public private(set) var placement: [NodeID]?
    /// The chain as last read or written, with its znode version (nil: no chain znode yet).
    public private(set) var chain: ChainView?
    public private(set) var chainVersion: Int32?
    /// Registered members and the incarnation each registered with.
    public private(set) var live: [NodeID: String] = [:]
    /// Members that stopped answering heartbeats (their ZooKeeper session may not have expired).
    public private(set) var suspected: Set<NodeID> = []
    /// Heads that stopped answering heartbeats while their session may live on, being fenced: a
    /// head serves reads under a lease it renews through ZooKeeper, so dropping it at once could
    /// let a new head take writes while it still answers reads (a stale read). The shell deletes
    /// its member znode, which stops its renewals, and reports `fenced` once its lease has run
    /// out; until then it stays in the chain even though its znode is gone. By incarnation: a new
    /// run of the same server is a different process, which the fence does not concern.
    public private(set) var fencing: [NodeID: String] = [:]
    /// Runs whose fence completed: never healthy again. Keyed by incarnation, not node id, so
    /// that a later run of the server is not held back (torture seed 33: a restarted run that had
    /// rejoined was dropped when its predecessor's fence completed, and never re-added).
    private var fencedRuns: Set<String> = []
    /// The join in progress: the joiner receives a snapshot from `source`.
    public private(set) var transfer: Transfer?
    /// A joiner whose snapshot is complete, waiting to be appended at the tail.
    private(set) var ready: (node: NodeID, incarnation: String, source: NodeID, sourceRun: String?)?
    /// No transfer starts before this tick: a refused one (often a tail that has not yet seen the
    /// newest epoch) is retried after a pause, not in a tight loop.
    private var transferNotBefore: UInt64 = 0
    /// The latest progress each member reported (from the leader's heartbeats).
    private(set) var progress: [NodeID: Progress] = [:]
    /// For each syncing member: a sequence number at or above every update committed without
    /// its acknowledgement (the `received` of the closest synced member upstream of it, reported
    /// in a configuration that already names it; see `caughtUpMembers`). Once the member's own
    /// durable prefix reaches it, it holds every committed update.
    var syncTargets: [NodeID: UInt64] = [:]
    /// Dead links between neighbours that both answer heartbeats.
    private(set) var links = LinkWatch()
    private var electedAt: UInt64 = 0
    private(set) var now: UInt64 = 0
    private var writing = false
    /// Whether a configuration write is outstanding.
    public var isWriting: Bool { writing }
    public private(set) var isLeading = false

    public struct Transfer: Equatable, Sendable {
        public var joiner: NodeID
        public var incarnation: String
        public var source: NodeID
        /// The run of `source` that sends the snapshot (only it can catch the joiner up).
        public var sourceRun: String?
        public var startedAt: UInt64
    }

    /// A member's position, as its heartbeat reply reports it.
    public struct Progress: Equatable, Sendable {
        /// The epoch of the configuration the member acts in.
        public var epoch: UInt64
        /// Highest sequence number it holds, the highest fsynced in an unbroken prefix, and the
        /// highest its successors acknowledged (committed from it to the tail).
        public var received: UInt64
        public var durable: UInt64
        public var stable: UInt64
        /// The member found its database damaged at start and moved it aside: it holds nothing
        /// of the chain until a state transfer, so it never carries or restarts the chain.
        public var dataLost: Bool

        /// `stable` nil: as far as `durable` (nothing waits for an ack).
        public init(epoch: UInt64, received: UInt64, durable: UInt64, stable: UInt64? = nil, dataLost: Bool = false) {
            self.epoch = epoch
            self.received = received
            self.durable = durable
            self.stable = stable ?? durable
            self.dataLost = dataLost
        }
    }

    public init(config: Config, placement: [NodeID]? = nil) {
        precondition(placement.map { !$0.isEmpty && Set($0).count == $0.count } ?? true, "a placement names distinct servers")
        self.config = config
        self.placement = placement
    }

    /// Whether `node` answered this leader's heartbeats and did not lose its database.
    private func holdsData(_ node: NodeID) -> Bool {
        progress[node].map { !$0.dataLost } ?? false
    }

    /// Whether `node` may be a member of this chain.
    private func placed(_ node: NodeID) -> Bool {
        placement?.contains(node) ?? true
    }

    public mutating func on(_ event: LeaderEvent) -> [LeaderAction] {
        switch event {
        case .elected(let chain, let version, let live, let now):
            self = Leader(config: config, placement: placement)
            self.chain = chain
            self.chainVersion = version
            self.live = live
            self.now = now
            self.electedAt = now
            self.isLeading = true
        case .membersChanged(let live):
            // A new run of a member has said nothing yet: its previous run's position is not its own
            // (a run that found its file damaged holds nothing).
            for (node, run) in self.live where live[node] != run {
                progress[node] = nil
                links.forget(node)
            }
            self.live = live
            suspected = suspected.filter { live[$0] != nil }
            let named = Set(live.values).union(chain?.incarnations.values ?? [:].values)
            fencedRuns = fencedRuns.filter { named.contains($0) }
        case .tick(let now):
            self.now = now
            if let t = transfer, now >= t.startedAt + config.transferTicks {
                transfer = nil  // took too long: give up, the next decision starts over
            }
        case .chainWritten(let view, let version):
            writing = false
            chain = view
            chainVersion = version
        case .chainWriteFailed(let current, let version):
            // Someone else wrote the chain: another leader, or we lost a race with our own
            // earlier write. Adopt what is there and decide again from it.
            writing = false
            chain = current
            chainVersion = version
        case .unresponsive(let node):
            if let chain, chain.head == node, healthy(node, in: chain), fencing[node] == nil,
               let run = chain.incarnations[node] ?? live[node] {
                fencing[node] = run
                return [.fence(node)]
            }
            if fencing[node] == nil { suspected.insert(node) }
        case .fencing(let node):
            if let chain, chain.head == node, fencing[node] == nil, healthy(node, in: chain),
               let run = chain.incarnations[node] ?? live[node] {
                fencing[node] = run
            }
        case .fenced(let node):
            guard let run = fencing.removeValue(forKey: node) else { return [] }
            fencedRuns.insert(run)
        case .responsive(let node):
            suspected.remove(node)
        case .progress(let node, let p):
            progress[node] = p
            links.reported(node, at: now)
        case .placementChanged(let servers):
            precondition(placement != nil && !servers.isEmpty && Set(servers).count == servers.count, "a placement names distinct servers")
            placement = servers
        case .transferDone(let joiner, let source):
            // Only the transfer under way: a late answer of an abandoned one (from a tail that
            // failed meanwhile) would append the joiner behind a tail that cannot catch it up.
            if let t = transfer, t.joiner == joiner, t.source == source {
                transfer = nil
                ready = (t.joiner, t.incarnation, t.source, t.sourceRun)
            }
        case .transferFailed(let joiner, let source):
            if transfer?.joiner == joiner, transfer?.source == source {
                transfer = nil
                transferNotBefore = now + Leader.transferRetryTicks
            }
        case .deposed:
            isLeading = false
            writing = false
            return []
        }
        return decide()
    }

    /// Whether `node` of the chain is still the run the chain names, and answering.
    private func healthy(_ node: NodeID, in chain: ChainView) -> Bool {
        // Its znode is gone because we deleted it, but it may still serve reads until `fenced`.
        // A new incarnation registered meanwhile means the fenced process is gone: no wait.
        let named = chain.incarnations[node]
        if let named, fencedRuns.contains(named) { return false }
        if let run = fencing[node], named == nil || named == run, live[node] == nil || live[node] == run { return true }
        // A head whose znode was already gone when we were elected: a previous leader may have
        // deleted it to fence the head, and ended before the lease ran out. Wait it out here.
        if chain.head == node, live[node] == nil, now < electedAt + config.fenceTicks { return true }
        guard let incarnation = live[node], !suspected.contains(node) else { return false }
        return chain.incarnations[node] == nil || chain.incarnations[node] == incarnation
    }

    private mutating func decide() -> [LeaderAction] {
        guard isLeading, !writing else { return [] }
        guard let chain else {
            let waited = now >= electedAt + config.formationTicks
            let candidates = live.keys.filter { !suspected.contains($0) && placed($0) }
            guard candidates.count >= config.expectedMembers || (waited && !candidates.isEmpty) else { return [] }
            // A placed chain keeps its placement's order (its head first); otherwise chain order.
            let members = placement?.filter(candidates.contains) ?? candidates.sorted(by: Leader.chainOrder)
            return write(ChainView(epoch: 1, members: members), expected: nil)
        }
        let survivors = chain.members.filter { healthy($0, in: chain) }
        if survivors.count != chain.members.count {
            if let t = transfer, !survivors.contains(t.source) { transfer = nil }
            if survivors.contains(where: { !chain.syncing.contains($0) }) {
                // Shrink the chain only around a member known to run: one that answered this
                // leader's heartbeats. A leader elected right after a total failure still sees the
                // dead members' znodes until their sessions expire; dropping only the ones it has
                // heard about would narrow the last configuration to dead members, and only they
                // could then restart the chain (FailureTests, total failure).
                guard survivors.contains(where: { !chain.syncing.contains($0) && holdsData($0) && fencing[$0] == nil }) else {
                    return []
                }
                // Syncing members sit at the tail end (joins append), so the head of the
                // survivors is a synced member: no committed write is lost.
                let syncing = chain.syncing.intersection(survivors)
                return write(ChainView(epoch: chain.epoch + 1, members: survivors, syncing: syncing), expected: chainVersion)
            }
            // Every member that holds all committed writes is gone; syncing survivors may lack
            // some (torture seed 26: a chain carried on by a joiner alone lost acknowledged
            // writes). The chain stays down until a synced member of this last configuration
            // comes back; a server dropped earlier may hold stale data, so it cannot either.
            // The first in chain order (the longest history) leads the restart; the others
            // rejoin with a state transfer.
            // Never a fenced run, whose znode may still be listed (torture seed 204: a one-member
            // chain's fenced head was chosen again, its configuration rewritten until the znode went).
            guard let restarter = chain.synced.first(where: {
                live[$0].map { !fencedRuns.contains($0) } == true && !suspected.contains($0) && holdsData($0)
            }) else {
                return []
            }
            let restart = ChainView(epoch: chain.epoch + 1, members: [restarter])
            assert(chain.members != restart.members || chain.incarnations[restarter] != live[restarter],
                   "a restart names another run than the configuration that failed; the same one would fail again")
            return write(restart, expected: chainVersion)
        }
        if let cut = deadLink(chain) { return cut }
        if let (node, incarnation, source, sourceRun) = ready {
            ready = nil
            // The joiner catches up on what committed since its snapshot from its predecessor's
            // updates kept in memory: only the run of the tail that sent the snapshot holds them.
            // A tail that restarted since (or another tail) holds none, and the joiner would stall
            // the chain behind it (CI torture seed 2: "successor is behind the updates kept in
            // memory" until the end of the run). Then the snapshot is taken again.
            let sameTail = chain.tail == source && (sourceRun == nil || chain.incarnations[source] == sourceRun)
            if sameTail && live[node] == incarnation && !suspected.contains(node) && !chain.members.contains(node) {
                return write(ChainView(epoch: chain.epoch + 1, members: chain.members + [node],
                                       syncing: chain.syncing.union([node])), expected: chainVersion)
            }
        }
        if let caughtUp = caughtUpMembers(of: chain), !caughtUp.isEmpty {
            // Only the leader acts on `syncing`, so the same epoch is kept: nodes see nothing new.
            var view = chain
            view.syncing.subtract(caughtUp)
            for node in caughtUp { syncTargets[node] = nil }
            return write(view, expected: chainVersion)
        }
        if let dropped = dropUnplaced(chain) { return dropped }
        if let handoff = headHandoff(chain) { return handoff }
        guard transfer == nil, now >= transferNotBefore, let tail = chain.tail else { return [] }
        let joiners = live.keys.filter {
            !chain.members.contains($0) && !suspected.contains($0) && placed($0) && !fencedRuns.contains(live[$0]!)
        }
            .sorted(by: Leader.chainOrder)
        guard let joiner = joiners.first else { return [] }
        transfer = Transfer(joiner: joiner, incarnation: live[joiner]!, source: tail, sourceRun: chain.incarnations[tail], startedAt: now)
        return [.startTransfer(from: tail, to: joiner, epoch: chain.epoch)]
    }

    /// Drops one end of a link that carries nothing although both ends answer heartbeats
    /// (`LinkWatch`): a successor leaves the chain at once (it holds a prefix of its predecessor's
    /// updates, so nothing committed is lost) and rejoins by state transfer behind the tail; a
    /// head is fenced first, like an unresponsive one, since it may still answer reads.
    private mutating func deadLink(_ chain: ChainView) -> [LeaderAction]? {
        guard let verdict = links.verdict(chain: chain, progress: progress, now: now, stallTicks: config.linkStallTicks,
                                          excluded: Set(fencing.keys)) else { return nil }
        links.dropped(verdict, at: now, successorSyncing: chain.syncing)
        let leaving: NodeID
        switch verdict {
        case .dropSuccessor(let successor, _): leaving = successor
        case .dropPredecessor(let predecessor, let successor):
            // Never the last member holding every committed update (behind it only joiners, or
            // members on their way out).
            let syncedRemain = chain.members.contains {
                $0 != predecessor && !chain.syncing.contains($0) && fencing[$0] == nil && healthy($0, in: chain)
            }
            leaving = syncedRemain ? predecessor : successor
        }
        if leaving == chain.head {
            guard let run = chain.incarnations[leaving] ?? live[leaving] else { return nil }
            fencing[leaving] = run
            return [.fence(leaving)]
        }
        precondition(leaving != chain.head && chain.members.count >= 2, "only a member behind the head leaves at once")
        return write(ChainView(epoch: chain.epoch + 1, members: chain.members.filter { $0 != leaving },
                               syncing: chain.syncing.subtracting([leaving])), expected: chainVersion)
    }

    /// Writes `members` as the next configuration (the one write outstanding), naming the run of
    /// every member.
    mutating func write(_ members: ChainView, expected: Int32?) -> [LeaderAction] {
        var view = members
        // A member kept without a live znode (a head being fenced, or waited out after an
        // election) keeps the run the chain already names: a configuration that names a member
        // without its run could be taken up by a later run of that server, whose disk may lack
        // or hold writes the chain never had (torture seed 1404: a restarted head served as the
        // head of the configuration meant for its previous run).
        for id in view.members {
            view.incarnations[id] = live[id] ?? chain?.incarnations[id] ?? fencing[id]
            assert(view.incarnations[id] != nil, "a configuration must name the run of every member")
        }
        writing = true
        return [.writeChain(view, expectedVersion: expected)]
    }

    /// Pause before retrying a failed transfer.
    public static let transferRetryTicks: UInt64 = 5
}

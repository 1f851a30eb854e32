/// Finds a dead link between two neighbours of a chain that both answer the leader: the
/// successor stays behind its predecessor and takes nothing in for `stallTicks`. Heartbeats
/// cannot see this (each member answers the leader), yet every write stalls behind the link,
/// since a write commits only once the tail holds it (found by a partition test: the head cut
/// from its successor only, while a third server led, stalled writes until the cut healed).
///
/// Pure: the leader feeds it every member's reported progress and asks it for a verdict.
/// A stall counts only when both ends reported in the chain's epoch within `freshTicks`, and
/// - forward: the successor is behind its predecessor's `received` with nothing of its own left
///   to do (its `durable` equals its `received`), and its `received` does not move; or
/// - back (acks; a one-way cut of the successor's packets): the successor committed more than its
///   predecessor knows (`stable`), the predecessor waits only for that ack (its `durable` is
///   ahead of its `stable`), and the predecessor's `stable` does not move.
/// A slow disk, a paused process (no fresh report) or a successor still catching up (its
/// `received` moves) is never a dead link.
///
/// What to drop: the successor (a prefix of its predecessor: dropping it loses nothing, and it
/// rejoins behind the tail by state transfer, where the cut link is no longer used). But when
/// the predecessor was an end of another link dropped within `windowTicks`, the predecessor is
/// the one cut off (a head cut from every peer would otherwise drop each successor in turn and
/// end up alone), and it goes instead.
struct LinkWatch: Equatable, Sendable {
    /// A value that has not moved since `since`.
    struct Still: Equatable, Sendable {
        var value: UInt64
        var since: UInt64

        /// Still `value` while the link has `pending` work; nil when it has none.
        static func update(_ still: Still?, pending: Bool, value: UInt64, now: UInt64) -> Still? {
            guard pending else { return nil }
            if let still, still.value == value { return still }
            return Still(value: value, since: now)
        }
    }

    /// The link from `predecessor` to a successor: the successor's `received` while updates wait
    /// to cross it, and the predecessor's `stable` while acks wait to cross back.
    struct Stall: Equatable, Sendable {
        var predecessor: NodeID
        var forward: Still?
        var back: Still?

        func dead(now: UInt64, after ticks: UInt64) -> Bool {
            [forward, back].contains { $0.map { now >= $0.since + ticks } ?? false }
        }
    }

    /// A link the leader dropped an end of, and when.
    struct Drop: Equatable, Sendable {
        var predecessor: NodeID
        var successor: NodeID
        var at: UInt64

        /// The end of this link that is not `node` (nil: `node` is not an end).
        func partner(of node: NodeID) -> NodeID? {
            node == predecessor ? successor : node == successor ? predecessor : nil
        }
    }

    enum Verdict: Equatable, Sendable {
        case dropSuccessor(NodeID, predecessor: NodeID)
        case dropPredecessor(NodeID, successor: NodeID)
    }

    /// How long a drop counts against its ends: a second dead link at one of them within this
    /// many ticks drops that end, and the head is not handed back to its placed server meanwhile
    /// (that would make the cut link a chain link again).
    static let windowTicks: UInt64 = 300
    /// Most drops remembered (older ones leave first; they are pruned by age anyway).
    static let dropsMax = 64

    private(set) var stalls: [NodeID: Stall] = [:]
    private var reportedAt: [NodeID: UInt64] = [:]
    private(set) var drops: [Drop] = []

    /// A member's heartbeat reply arrived at `now`.
    mutating func reported(_ node: NodeID, at now: UInt64) {
        reportedAt[node] = now
    }

    /// The member's reports no longer describe it (a new run registered).
    mutating func forget(_ node: NodeID) {
        reportedAt[node] = nil
        stalls[node] = nil
    }

    /// Updates the stalls from the latest reports, then says which end of a dead link to drop,
    /// if any. `excluded`: members already on their way out (being fenced): no verdict names them.
    mutating func verdict(chain: ChainView, progress: [NodeID: Leader.Progress], now: UInt64, stallTicks: UInt64,
                          excluded: Set<NodeID>) -> Verdict? {
        precondition(stallTicks > 0, "a stall lasts at least a tick")
        drops.removeAll { now >= $0.at + Self.windowTicks }
        let freshTicks = max(stallTicks / 3, 1)
        var seen: Set<NodeID> = []
        var dead: (predecessor: NodeID, successor: NodeID)?
        for (predecessor, successor) in zip(chain.members, chain.members.dropFirst()) {
            seen.insert(successor)
            guard let up = progress[predecessor], let down = progress[successor],
                  up.epoch == chain.epoch, down.epoch == chain.epoch,
                  let upAt = reportedAt[predecessor], let downAt = reportedAt[successor],
                  now <= upAt + freshTicks, now <= downAt + freshTicks else {
                stalls[successor] = nil
                continue
            }
            let forwardPending = down.received < up.received && down.durable == down.received
            let backPending = up.stable < min(up.durable, down.stable)
            let last = stalls[successor].flatMap { $0.predecessor == predecessor ? $0 : nil }
            let stall = Stall(predecessor: predecessor,
                              forward: Still.update(last?.forward, pending: forwardPending, value: down.received, now: now),
                              back: Still.update(last?.back, pending: backPending, value: up.stable, now: now))
            stalls[successor] = stall.forward == nil && stall.back == nil ? nil : stall
            if dead == nil, stall.dead(now: now, after: stallTicks), !excluded.contains(predecessor), !excluded.contains(successor) {
                dead = (predecessor, successor)
            }
        }
        stalls = stalls.filter { seen.contains($0.key) }
        guard let dead else { return nil }
        // Evidence against the predecessor: a dead link with a *different* partner (the same
        // successor failing again, a joiner that cannot catch up, says nothing of it).
        let cutBefore = drops.contains { drop in drop.partner(of: dead.predecessor).map { $0 != dead.successor } ?? false }
        return cutBefore ? .dropPredecessor(dead.predecessor, successor: dead.successor)
                         : .dropSuccessor(dead.successor, predecessor: dead.predecessor)
    }

    /// The leader acted on a verdict at `now`. A link to a joiner (`syncing`) is not kept as
    /// evidence: a joiner behind the updates its predecessor still holds stalls too
    /// (`successorTooFarBehind`), through no fault of the predecessor's.
    mutating func dropped(_ verdict: Verdict, at now: UInt64, successorSyncing syncing: Set<NodeID>) {
        let link: Drop
        switch verdict {
        case .dropSuccessor(let s, let p): link = Drop(predecessor: p, successor: s, at: now)
        case .dropPredecessor(let p, let s): link = Drop(predecessor: p, successor: s, at: now)
        }
        stalls[link.successor] = nil
        guard !syncing.contains(link.successor) else { return }
        drops.append(link)
        if drops.count > Self.dropsMax { drops.removeFirst(drops.count - Self.dropsMax) }
    }

    /// Whether a link of this chain was dropped within the window.
    func droppedRecently(now: UInt64) -> Bool {
        drops.contains { now < $0.at + Self.windowTicks }
    }
}

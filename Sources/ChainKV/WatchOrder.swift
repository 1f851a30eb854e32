internal import ChainCore

/// The order a watch hands changes on in: each chain's changes in its sequence order, and, across
/// a slot move, a key's changes in order although two chains hold them (the donor's up to the
/// move, the recipient's after it). Pure: the polls feed it what each chain answered
/// (`received`) and hand on what it returns; it knows nothing of sockets.
///
/// A move leaves a barrier in the recipient's history before its first copied row
/// (`MoveBarrier`: slots S came from chain A, whose changes of them are at or before A's version
/// X). The recipient's stream stops at the barrier until the caller has been handed A's stream
/// through X (the cursor's position for A is at least X); everything the recipient sent after
/// the barrier is held until then, in order. The whole stream is held, not only S's changes: the
/// cursor has one position per chain, and it could not say which of the recipient's later
/// changes were handed on and which not. A barrier that cannot concern the watch (a one-key watch
/// whose key's slot is not in S) stops nothing.
///
/// Holding never waits in a circle: a barrier in B's history waiting on A at X was written after
/// A committed X, and any barrier in A's history before X, waiting on B at Y, was written
/// after B committed Y, by an earlier move (moves are one at a time), so before B's barrier: Y
/// comes before B's barrier in B's stream, which reaches it without waiting on A.
///
/// A cursor the caller moved past a compaction (resuming from the oldest point a chain still
/// holds, as `WatchCompacted` allows) may skip a barrier the chain's history no longer holds,
/// while the donor's position in it is still before the barrier's version: the chain's changes
/// after the cursor would then pass ahead of the donor's older changes of the same keys. So a
/// watch resumed from a cursor first asks each chain for the barriers it keeps (beyond its
/// history: `Replica.barrierLog`), and those at or before the cursor's position hold the chain's
/// stream until the donor passes them, as if just received (`resumed`).
///
/// A donor that is no longer in the slot map (`present`: decommissioned, it owns no slot) cannot
/// be read any more: its barriers stop nothing.
struct WatchOrder {
    /// What the caller has been handed: per chain, the version through which it has every change.
    private(set) var cursor: WatchCursor
    /// Entries received and not handed on yet (the first is a barrier that has not passed), per chain.
    private var held: [String: [Change]] = [:]
    /// Per chain: how far its last answer looked (where its next poll resumes). The cursor takes
    /// it once nothing of the chain is held.
    private var fetched: [String: UInt64] = [:]
    /// The chains of the newest slot map seen; nil until one is.
    private var present: Set<String>?
    /// Chains that appeared during the watch (growth), read from the oldest change they keep.
    private var late: Set<String> = []
    /// The watched key, for a one-key watch: only barriers of its slot concern it.
    private let key: String?
    /// Changes held in all, for the bound on them (`ChainKVClient.watchHeldMax`).
    private(set) var heldCount = 0

    init(cursor: WatchCursor, range: KeyRange) {
        self.cursor = cursor
        if let upper = range.upper, upper == range.lower + [0] {
            key = String(decoding: range.lower, as: UTF8.self)
        } else {
            key = nil
        }
    }

    /// Where each chain's watch starts, from every chain's answer to "now" (`through`, and the
    /// newest move barriers before it). A chain whose "now" is past a barrier whose donor's "now"
    /// is not yet at the barrier's version (a move ending while the watch starts) starts just
    /// before the barrier instead: its stream then holds the barrier, and its changes after it
    /// wait for the donor's before it. It may so deliver a few changes from just before the start.
    /// A donor not among the answers (no longer in the map) is not waited for.
    static func startPoints(_ answers: [String: (through: UInt64, barriers: [Change])]) -> [String: UInt64] {
        answers.mapValues { answer in
            answer.barriers.reduce(answer.through) { start, entry in
                guard let barrier = entry.barrier, entry.version >= 1, let donor = answers[barrier.from],
                      donor.through < barrier.after else { return start }
                return min(start, entry.version - 1)
            }
        }
    }

    /// Where chain `chain`'s next poll resumes (nil: from now).
    func resumePoint(_ chain: String) -> UInt64? { fetched[chain] ?? cursor.positions[chain] }

    /// Whether chain `chain` has changes held behind a barrier.
    func holds(_ chain: String) -> Bool { !(held[chain]?.isEmpty ?? true) }

    /// Sets where a chain the cursor has no position for starts (a watch's "now", or 0 for a
    /// chain that appeared later: `late`); false if it had one.
    mutating func start(_ chain: String, at position: UInt64, late: Bool = false) -> Bool {
        guard cursor.positions[chain] == nil else { return false }
        cursor.positions[chain] = position
        if late { self.late.insert(chain) }
        return true
    }

    /// Whether a compaction of chain `chain` is passed over, the chain read from the oldest
    /// change it keeps: only a chain that appeared during the watch, before its first answer
    /// (its beginning may be gone). Once a chain has answered, a compaction is a gap the caller
    /// must be told of (`WatchCompacted`): a late chain whose head restarted with no history
    /// once skipped a committed change silently (torture seed 7 with `--grow`, 2026-12-06).
    func readsFromOldest(_ chain: String) -> Bool { late.contains(chain) && fetched[chain] == nil }

    /// The barriers chain `chain` keeps, for a watch resumed from a cursor, before any answer of
    /// the chain's polls: those at or before the cursor's position in the chain that do not pass
    /// yet hold its stream (the cursor skipped them, moved past a compaction); the later ones
    /// arrive in its stream.
    mutating func resumed(_ chain: String, barriers: [Change]) {
        assert(held[chain] == nil && fetched[chain] == nil, "a chain's kept barriers come before its changes")
        guard let position = cursor.positions[chain] else { return }
        let skipped = barriers.filter { entry in
            guard let barrier = entry.barrier else { return false }
            return entry.version <= position && !passes(barrier)
        }
        guard !skipped.isEmpty else { return }
        held[chain] = skipped.sorted { $0.version < $1.version }
        heldCount += skipped.count
    }

    /// The chains of the slot map just read; returns what that releases (a donor left the map).
    mutating func present(_ chains: Set<String>) -> [WatchEvent] {
        present = chains
        return release()
    }

    /// One answer of chain `chain`: its entries after `resumePoint(chain)` (changes and barriers,
    /// by version) and how far it looked. Returns the changes to hand on now, in order, each
    /// with the cursor just after it (other chains' held changes this released included).
    mutating func received(_ chain: String, _ entries: [Change], through: UInt64) -> [WatchEvent] {
        held[chain, default: []].append(contentsOf: entries)
        heldCount += entries.count
        fetched[chain] = max(fetched[chain] ?? cursor.positions[chain] ?? 0, through)
        return release()
    }

    /// Hands on every entry no barrier holds, chain by chain, until nothing more passes: a chain
    /// passing a point can let another chain's barrier pass.
    private mutating func release() -> [WatchEvent] {
        var out: [WatchEvent] = []
        var moved = true
        while moved {
            moved = false
            for chain in Set(held.keys).union(fetched.keys).sorted() {
                let before = cursor.positions[chain]
                var queue = held[chain] ?? []
                var taken = 0
                for entry in queue {
                    if let barrier = entry.barrier {
                        guard passes(barrier) else { break }
                    } else {
                        cursor.positions[chain] = entry.version
                        out.append(WatchEvent(key: entry.key, value: entry.value, version: entry.version, cursor: cursor))
                    }
                    cursor.positions[chain] = max(cursor.positions[chain] ?? 0, entry.version)
                    taken += 1
                }
                queue.removeFirst(taken)
                heldCount -= taken
                held[chain] = queue.isEmpty ? nil : queue
                if queue.isEmpty, let through = fetched[chain] {
                    cursor.positions[chain] = max(cursor.positions[chain] ?? 0, through)
                }
                if cursor.positions[chain] != before { moved = true }
            }
        }
        return out
    }

    /// Whether the caller has been handed everything before `barrier` that it concerns.
    private func passes(_ barrier: MoveBarrier) -> Bool {
        if let key, !barrier.contains(slot: SlotMap.slot(of: key)) { return true }
        if let present, !present.contains(barrier.from) { return true }
        return (cursor.positions[barrier.from] ?? 0) >= barrier.after && cursor.positions[barrier.from] != nil
    }
}

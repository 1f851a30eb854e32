import ChainCoordination
import ChainCore
import ChainWire
import Logging
import NIOCore

/// The shell around the `ClusterLeader` core (one `Leader` per chain): while this server leads,
/// it feeds the core membership, heartbeats and ticks, and carries out its actions: chain and
/// slot map znode writes, state transfers and fencing. It owns the core, the member links and the watch on the next candidate in the
/// election (LeaderShell+Election); ZooKeeper is reached through `LeaderCoordination`.
/// Confined to the server's loop.
final class LeaderShell: @unchecked Sendable {
    private(set) var core: ClusterLeader
    let context: ShellContext
    let id: NodeID
    /// How long a fenced head's lease may still run (`LeaseTiming.fenceWaitMs`).
    let fenceWait: TimeAmount
    /// Set once ZooKeeper is connected, before this server stands for election.
    var coordination: LeaderCoordination?
    let dialer: LeaderDialer
    private(set) var links: MemberLinks?
    /// The candidate this server removed from the election as gone (crashed or silent), reported
    /// unresponsive at once if this server becomes leader next.
    var goneCandidate: NodeID?
    var candidateWatch: CandidateWatching?
    /// Counts `watchCandidate` calls, so that a quorum check's late answer about an earlier
    /// candidate is ignored.
    var candidateGeneration = 0
    /// When each chain's head handoff started (its drain was written): the pause is logged when
    /// the reordered configuration is written.
    private var handoffSince: [String: NIODeadline] = [:]
    /// When the slot map recording the move under way was written (its slots stopped being served).
    var moveSince: NIODeadline?

    /// Longest a state transfer may take before the leader starts it over.
    static let transferTimeout = TimeAmount.seconds(120)

    init(id: NodeID, config: ClusterLeader.Config, fenceWait: TimeAmount, context: ShellContext, dialer: LeaderDialer) {
        self.id = id
        self.core = ClusterLeader(config: config)
        self.fenceWait = fenceWait
        self.context = context
        self.dialer = dialer
    }

    var isLeading: Bool { core.isLeading }
    var logger: Logger { context.logger }

    // MARK: Events

    /// `chains`: every stored chain by id (unsharded: the one chain under `ClusterLeader.soleChain`).
    func elected(chains: [String: (ChainConfig, version: Int32)], slots: (SlotMap, version: Int32)?, live: [MemberInfo],
                 decommissioned: Set<String> = []) {
        logger.notice("elected leader", metadata: ["chains": "\(chains.count)", "mapVersion": "\(slots.map { "\($0.0.version)" } ?? "none")"])
        links?.close()
        links = dialer.members { [weak self] event in self?.event(event) }
        links?.update(members: Self.addresses(live))
        let stored = chains.mapValues { ClusterLeader.StoredChain(view: $0.0.view, version: $0.version, placement: $0.0.placement) }
        event(.elected(chains: stored, slots: slots.map { .init(map: $0.0, version: $0.version) }, live: Self.incarnations(live),
                       now: context.ticks, decommissioned: decommissioned))
        // The leader we removed from the election because it was gone: no need to find that out
        // again with heartbeats of our own (a paused leader would cost another heartbeat timeout).
        if let gone = goneCandidate, live.contains(where: { $0.id == gone }) {
            links?.suspect(gone)
            event(.unresponsive(gone))
        }
        goneCandidate = nil
    }

    func membersChanged(_ members: [MemberInfo]) {
        guard isLeading else { return }
        links?.update(members: Self.addresses(members))
        event(.membersChanged(Self.incarnations(members)))
    }

    func tick() {
        guard isLeading else { return }
        event(.tick(context.ticks))
    }

    /// Our election znode was deleted (another server found us crashed, wrongly, or by hand):
    /// another server leads. Our chain writes would fail their version check anyway.
    func deposed() {
        guard isLeading else { return }
        logger.warning("deposed: our election znode was removed; another server leads")
        links?.close()
        links = nil
        event(.deposed)
    }

    func close() {
        links?.close()
        links = nil
        candidateWatch?.close()
        candidateWatch = nil
    }

    func event(_ event: ClusterLeaderEvent) {
        context.loop.preconditionInEventLoop()
        for action in core.on(event) {
            switch action {
            case .writeChain(let chain, let view, let placement, let expectedVersion):
                writeChain(chain, view, placement: placement, expectedVersion: expectedVersion)
            case .writeSlots(let map, let expectedVersion): writeSlots(map, expectedVersion: expectedVersion)
            case .startTransfer(let chain, let from, let to, let epoch): requestTransfer(chain, from: from, to: to, epoch: epoch)
            case .fence(let node): fence(node)
            case .copySlots(let move, let mapVersion): copySlots(move, mapVersion: mapVersion)
            case .dropSlots(let move, let mapVersion): dropSlots(move, mapVersion: mapVersion)
            }
        }
    }

    // MARK: Actions

    private func writeChain(_ chain: String, _ view: ChainView, placement: [NodeID]?, expectedVersion: Int32?) {
        guard let coordination else {
            preconditionFailure("the node joins the election only after its coordination is set")
        }
        let config = ChainConfig(epoch: view.epoch, members: view.members, addresses: context.addresses.hostPorts(view.members),
                                 leader: id, incarnations: view.incarnations, syncing: Array(view.syncing), placement: placement,
                                 handoff: view.handoff)
        logger.notice("leader writes chain", metadata: ["id": "\(chain)", "epoch": "\(view.epoch)",
                                                        "chain": "\(view.members.joined(separator: " -> "))",
                                                        "handoff": "\(view.handoff ?? "-")"])
        coordination.writeChain(chain, config, expectedVersion: expectedVersion, on: context.loop).whenSuccess { result in
            switch result {
            case .written(let version):
                self.context.metrics.chainWrites.increment()
                self.handoffWritten(chain, view)
                self.event(.chainWritten(chain, view, version: version))
            case .conflict(let current):
                self.logger.warning("chain write lost a race; re-deciding from the stored chain", metadata: ["id": "\(chain)"])
                self.event(.chainWriteFailed(chain, current: current.map { $0.0.view }, version: current?.version))
            }
        }
    }

    /// Logs how long a chain's head handoff paused its new writes (from the drain's write to the
    /// reordered configuration's).
    private func handoffWritten(_ chain: String, _ view: ChainView) {
        if view.handoff != nil {
            handoffSince[chain] = handoffSince[chain] ?? context.loop.now
        } else if let since = handoffSince.removeValue(forKey: chain) {
            let ms = (context.loop.now - since).nanoseconds / 1_000_000
            logger.notice("chain \(chain) back in its placed order: new writes paused \(ms) ms", metadata: [
                "id": "\(chain)", "head": "\(view.head ?? "-")", "pauseMs": "\(ms)"])
        }
    }

    private func writeSlots(_ map: SlotMap, expectedVersion: Int32?) {
        guard let coordination else {
            preconditionFailure("the node joins the election only after its coordination is set")
        }
        logger.notice("leader writes the slot map", metadata: ["mapVersion": "\(map.version)", "chains": "\(map.counts.count)",
                                                               "moving": "\(map.moving.map { "\($0.slots.count) slots \($0.from) -> \($0.to)" } ?? "-")"])
        let issued = context.loop.now
        coordination.writeSlots(map, expectedVersion: expectedVersion, on: context.loop).whenSuccess { result in
            switch result {
            case .written(let version):
                self.slotsWritten(map, issued: issued)
                self.event(.slotsWritten(map, version: version))
            case .conflict(let current):
                self.logger.warning("slot map write lost a race; re-deciding from the stored map")
                self.event(.slotsWriteFailed(current: current.map { .init(map: $0.0, version: $0.version) }))
            }
        }
    }

    /// Deletes the head's member znode, which makes its lease renewals fail, then waits out the
    /// lease it may hold plus the clock-rate margin (`fenceWait`) before the core may drop it.
    /// Without a znode to delete (its session ended long since, and no delete of ours for it is in
    /// doubt) its lease is over already; a newer run holding the znode means the fenced run cannot
    /// renew, and its lease is waited out (`Coordinator.fence`).
    private func fence(_ member: NodeID) {
        guard let coordination else { return }
        logger.notice("fencing an unresponsive head before dropping it",
                      metadata: ["member": "\(member)", "waitMs": "\(fenceWait.nanoseconds / 1_000_000)"])
        // The run the core is fencing (`Leader.fencing`): a newer run that registered since keeps its znode.
        let run = core.chains.values.lazy.compactMap { $0.fencing[member] }.first
        coordination.fence(member: member, incarnation: run, on: context.loop).whenComplete { result in
            switch result {
            case .success(true):
                self.context.loop.scheduleTask(in: self.fenceWait) { self.event(.fenced(member)) }
            case .success(false):
                self.event(.fenced(member))
            case .failure(let error):
                // The head keeps its place (and writes wait) rather than risk two heads serving.
                self.logger.error("cannot fence the head; it stays in the chain", metadata: ["member": "\(member)", "error": "\(error)"])
                self.event(.fenceFailed(member))
            }
        }
    }

    private func requestTransfer(_ chain: String, from source: NodeID, to joiner: NodeID, epoch: UInt64) {
        guard let links, let target = context.addresses[joiner] else {
            event(.transferFailed(chain, joiner: joiner, from: source))
            return
        }
        logger.notice("leader starts a join", metadata: ["id": "\(chain)", "joiner": "\(joiner)", "source": "\(source)", "epoch": "\(epoch)"])
        let request = SnapshotSender.scoped(core.config.sharded ? chain : nil, .startTransfer(epoch: epoch, leader: id, to: target))
        links.request(request, to: source, timeout: Self.transferTimeout).whenComplete { result in
            if case .success(.ack(_, let seq)) = result {
                self.logger.notice("join snapshot complete", metadata: ["id": "\(chain)", "joiner": "\(joiner)", "lastSeq": "\(seq)"])
                self.event(.transferDone(chain, joiner: joiner, from: source))
            } else {
                // The leader tries again by itself: worth a notice, not a warning.
                self.logger.notice("join failed; will retry", metadata: ["id": "\(chain)", "joiner": "\(joiner)",
                                                                          "reply": "\(LogText.answer(result))"])
                self.event(.transferFailed(chain, joiner: joiner, from: source))
            }
        }
    }

    static func incarnations(_ members: [MemberInfo]) -> [NodeID: String] {
        Dictionary(members.map { ($0.id, $0.incarnation) }, uniquingKeysWith: { a, _ in a })
    }

    static func addresses(_ members: [MemberInfo]) -> [NodeID: NodeAddress] {
        Dictionary(members.map { ($0.id, $0.nodeAddress) }, uniquingKeysWith: { a, _ in a })
    }
}

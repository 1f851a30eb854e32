import ChainCore
import ChainTransport
import ChainWire
import Logging
import NIOCore

/// The leader's links to every member: periodic pings (the paper's heartbeats, one `PeerProbe`
/// per member) and control requests such as StartTransfer. A member whose pings fail for longer
/// than the configured limit is reported unresponsive, so a hung or paused server leaves the chain
/// even while its ZooKeeper session lives on; one whose port refuses a dial (a crashed process) is
/// reported at once. Confined to the node's loop.
final class LeaderLinks: MemberLinks, @unchecked Sendable {
    private let context: ShellContext
    private let group: EventLoopGroup
    private let security: ConnectionSecurity
    /// Where `unresponsive`, `responsive` and `progress` go (the leader shell), on the loop.
    private let report: (ClusterLeaderEvent) -> Void
    /// Whether members report each chain's progress (`NodeStatus.chains`) or the one chain's.
    private let sharded: Bool
    private var probes: [NodeID: PeerProbe] = [:]
    /// Members reported unresponsive and not yet heard from again.
    private var suspected: Set<NodeID> = []
    /// This leader heard from fewer than a majority of the members at the last beat.
    private var isolated = false
    private var timer: RepeatedTask?
    /// Excuses members for this server's own stalls.
    private var clock: BeatClock
    private let interval: TimeAmount
    private let limit: TimeAmount

    init(context: ShellContext, group: EventLoopGroup, security: ConnectionSecurity, interval: TimeAmount, limit: TimeAmount,
         sharded: Bool, report: @escaping (ClusterLeaderEvent) -> Void) {
        self.sharded = sharded
        self.context = context
        self.group = group
        self.security = security
        self.report = report
        self.interval = interval
        self.clock = BeatClock(interval: interval)
        self.limit = limit
        timer = context.loop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [weak self] _ in self?.beat() }
    }

    /// Keeps one probe per registered member; probes of members that left are closed.
    func update(members: [NodeID: NodeAddress]) {
        for (id, probe) in probes where members[id] != probe.address {
            probe.close()
            probes[id] = nil
            suspected.remove(id)
        }
        for (id, address) in members where probes[id] == nil {
            probes[id] = PeerProbe(address: address, gate: context.gate, group: group, security: security, interval: interval,
                                   onAnswer: { [weak self] status in self?.answered(id, status) },
                                   onRefused: { [weak self] in self?.refused(id) })
        }
    }

    /// Marks a member already reported unresponsive by other means, so that its next answer is
    /// reported as `responsive`.
    func suspect(_ id: NodeID) {
        if probes[id] != nil { suspected.insert(id) }
    }

    func close() {
        timer?.cancel()
        for probe in probes.values { probe.close() }
        probes.removeAll()
    }

    /// Sends `message` to `member` on a connection of its own and waits for the reply.
    func request(_ message: Message, to member: NodeID, timeout: TimeAmount) -> EventLoopFuture<Message> {
        let promise = context.loop.makePromise(of: Message.self)
        guard let address = probes[member]?.address else {
            promise.fail(TransferError("no link to \(member)"))
            return promise.futureResult
        }
        let (group, security) = (self.group, self.security)
        promise.completeWithTask {
            // A dedicated connection: a long transfer must not delay heartbeats queued behind it.
            let connection = try await Connection.connect(host: address.host, port: address.port, group: group, timeout: .seconds(2),
                                                          security: security)
            defer { connection.close() }
            return try await connection.request(message, timeout: timeout)
        }
        return promise.futureResult
    }

    private func beat() {
        let now = context.loop.now
        let stall = clock.beat(now: now)
        for probe in probes.values where stall > .zero { probe.excuse(stall) }
        // The other members heard from within the limit. Unless they and this server are a
        // majority, the silence is likely this server's own (cut off from its peers but not from
        // ZooKeeper): it reports nobody, and the majority's next candidate removes it from the
        // election instead (CandidateWatch, QuorumCheck).
        // "Heard" means recently, well inside the limit: members cut at the same moment fall
        // silent within one interval of each other, and one just under the limit must not count
        // as heard while another is reported (PartitionTests: a leader cut from both peers
        // reported the head, counting the tail heard 1.5 s after its last answer).
        let others = probes.filter { $0.key != context.addresses.own }
        let recent = TimeAmount.nanoseconds(max(interval.nanoseconds * 2, limit.nanoseconds / 2))
        let heard = others.values.filter { now - $0.lastAnswer <= recent }.count
        let majority = QuorumCheck.isMajority(answering: heard, others: others.count)
        if !majority, !isolated {
            let text = "leader hears from \(heard) of \(others.count) other members: reporting none unresponsive (this server may be the one cut off)"
            context.logger.warning("\(text)")
        }
        isolated = !majority
        for (id, probe) in probes {
            if majority, !suspected.contains(id) && now - probe.lastAnswer > limit {
                suspected.insert(id)
                context.logger.warning("member missed heartbeats; reporting it unresponsive",
                                       metadata: ["member": "\(id)", "silentMs": "\((now - probe.lastAnswer).nanoseconds / 1_000_000)"])
                report(.unresponsive(id))
            }
            probe.beat()
        }
    }

    /// The member's port refused a dial: its process is gone. Reported at once, instead of after
    /// `limit` without answers; for a head the leader still fences it first, as a firewall
    /// rejecting with a reset looks the same. A new run of the member answers pings again and is
    /// reported responsive then.
    private func refused(_ id: NodeID) {
        guard let probe = probes[id], !suspected.contains(id) else { return }
        suspected.insert(id)
        context.logger.warning("member's port refuses connections: its process is gone; reporting it unresponsive now",
                               metadata: ["member": "\(id)", "address": "\(probe.address.hostPort)"])
        report(.unresponsive(id))
    }

    /// A heartbeat reply also tells the leader how far the member is, which is how it learns that
    /// a joiner caught up (`Leader.Progress`).
    private func answered(_ id: NodeID, _ status: NodeStatus) {
        if sharded {
            report(.progress(id, Dictionary(status.chains.map { ($0.chain, Leader.Progress(epoch: $0.epoch, received: $0.received, durable: $0.durable,
                                                                                              stable: $0.stable, dataLost: $0.role == ServerNode.dataLostRole)) },
                                            uniquingKeysWith: { a, _ in a })))
        } else {
            report(.progress(id, [ClusterLeader.soleChain: .init(epoch: status.epoch, received: status.received, durable: status.durable,
                                                                 stable: status.stable, dataLost: status.role == ServerNode.dataLostRole)]))
        }
        if suspected.remove(id) != nil {
            context.logger.notice("member answers heartbeats again", metadata: ["member": "\(id)"])
            report(.responsive(id))
        }
    }
}

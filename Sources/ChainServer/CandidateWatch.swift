import ChainCoordination
import ChainCore
import ChainTransport
import ChainWire
import NIOCore

/// A server's watch on the election candidate just below it (for the second candidate: the
/// leader). ZooKeeper removes a crashed candidate's election znode only when its session times
/// out; this pings that candidate's server like the leader pings members (a `PeerProbe`), and
/// asks for the znode to be removed at once when a dial is refused (its process is gone) or when
/// it answers no ping for the heartbeat timeout (paused, stuck). The next candidate then takes
/// over without waiting for the session timeout: when the leader is also the head, the whole
/// failover waits for the new leader. Removing a live leader's znode is safe: it stops leading
/// when it sees that, and its chain writes fail their version check once the new leader wrote.
/// Confined to the node's loop.
final class CandidateWatch: CandidateWatching, @unchecked Sendable {
    let candidate: ElectionPeer
    private let gate: LoopGate
    private var loop: EventLoop { gate.loop }
    private let onGone: @Sendable (ElectionPeer, CandidateAbsence) -> Void
    private var probe: PeerProbe?
    /// Excuses the candidate for this server's own stalls.
    private var clock: BeatClock
    private let limit: TimeAmount
    private var timer: RepeatedTask?
    private var closed = false

    init(candidate: ElectionPeer, address: NodeAddress, gate: LoopGate, group: EventLoopGroup, security: ConnectionSecurity,
         interval: TimeAmount, limit: TimeAmount, onGone: @escaping @Sendable (ElectionPeer, CandidateAbsence) -> Void) {
        self.candidate = candidate
        self.gate = gate
        let loop = gate.loop
        self.onGone = onGone
        self.clock = BeatClock(interval: interval)
        self.limit = limit
        gate.execute {
            // Closed before it started (the candidate below changed at once): nothing to watch.
            guard !self.closed else { return }
            let probe = PeerProbe(address: address, gate: gate, group: group, security: security, interval: interval,
                                  onAnswer: { _ in }, onRefused: { [weak self] in self?.gone(.portRefused) })
            self.probe = probe
            probe.beat()
            self.timer = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in self?.beat() }
        }
    }

    func close() {
        loop.preconditionInEventLoop()
        closed = true
        timer?.cancel()
        probe?.close()
        probe = nil
    }

    private func beat() {
        guard let probe else { return }
        let now = loop.now
        probe.excuse(clock.beat(now: now))
        if now - probe.lastAnswer > limit {
            return gone(.silent(ms: limit.nanoseconds / 1_000_000))
        }
        probe.beat()
    }

    private func gone(_ why: CandidateAbsence) {
        guard probe != nil else { return }
        close()
        onGone(candidate, why)
    }
}

/// Why a watched candidate counts as gone.
enum CandidateAbsence: Sendable, Equatable, CustomStringConvertible {
    /// A dial was refused: nothing listens on its port, its process is gone.
    case portRefused
    /// It answered no ping for `ms`: paused or stuck, or cut off from this server (which
    /// `QuorumCheck` tells apart from this server being the one cut off).
    case silent(ms: Int64)

    var description: String {
        switch self {
        case .portRefused: "its port refuses connections"
        case .silent(let ms): "answered no ping for \(ms) ms"
        }
    }
}

import ChainCoordination
import ChainCore
import ChainWire
import Foundation
import NIOCore

/// What ZooKeeper tells a node, applied on the node's loop, and the leader's actions.
extension ChainNode {
    /// A chain configuration was read from the chain znode (every server watches it).
    func chainChanged(_ config: ChainConfig, version: Int32) {
        loop.preconditionInEventLoop()
        for (id, address) in config.addresses {
            if let parsed = Self.parseAddress(id: id, address) { addresses[id] = parsed }
        }
        let view = config.view
        guard view.epoch > replica.view.epoch else { return }
        if view.members.contains(self.config.id), config.incarnations[self.config.id] == nil {
            // Every configuration the leader writes names each member's run; one that does not
            // cannot tell this run from a previous one, so it is not acted on.
            logger.error("chain names this server without its run; waiting to be re-added", metadata: ["epoch": "\(view.epoch)"])
            return
        }
        if let named = config.incarnations[self.config.id], named != member.incarnation {
            // The configuration means this server's previous run, whose disk may hold writes the
            // chain never committed. It waits until the leader re-adds this run by state transfer.
            logger.notice("chain names a previous run of this server; waiting to be re-added", metadata: [
                "epoch": "\(view.epoch)", "named": "\(named)", "this": "\(member.incarnation)",
            ])
            return
        }
        logger.notice("chain reconfigured", metadata: [
            "epoch": "\(view.epoch)", "chain": "\(view.members.joined(separator: " -> "))",
            "role": "\(view.role(of: self.config.id).rawValue)", "leader": "\(config.leader)",
        ])
        perform(replica.on(.viewChanged(view)))
        metrics.reconfigurations.increment()
        flush()
    }

    func membersChanged(_ members: [MemberInfo]) {
        loop.preconditionInEventLoop()
        for m in members { addresses[m.id] = NodeAddress(id: m.id, host: m.host, port: m.port) }
        logger.info("membership changed", metadata: ["members": "\(members.map(\.id).sorted(by: Leader.chainOrder).joined(separator: ","))"])
        guard leader.isLeading else { return }
        leaderLinks?.update(members: Dictionary(uniqueKeysWithValues: members.map { ($0.id, NodeAddress(id: $0.id, host: $0.host, port: $0.port)) }))
        leaderEvent(.membersChanged(Self.incarnations(members)))
    }

    func becameLeader(chain: (ChainConfig, version: Int32)?, live: [MemberInfo]) {
        loop.preconditionInEventLoop()
        for m in live { addresses[m.id] = NodeAddress(id: m.id, host: m.host, port: m.port) }
        logger.notice("elected leader", metadata: ["chain": "\(chain.map { "epoch \($0.0.epoch) \($0.0.members)" } ?? "none")"])
        leaderLinks = LeaderLinks(node: self, interval: .milliseconds(Int64(config.heartbeatIntervalMs)),
                                  limit: .milliseconds(Int64(config.heartbeatTimeoutMs)))
        leaderLinks?.update(members: Dictionary(uniqueKeysWithValues: live.map { ($0.id, NodeAddress(id: $0.id, host: $0.host, port: $0.port)) }))
        let view = chain.map { $0.0.view }
        leaderEvent(.elected(chain: view, version: chain?.version, live: Self.incarnations(live), now: ticks))
        // The leader we removed from the election because it was gone: no need to find that out
        // again with heartbeats of our own (a paused leader would cost another heartbeat timeout).
        if let gone = goneCandidate, live.contains(where: { $0.id == gone }) {
            leaderLinks?.suspect(gone)
            leaderEvent(.unresponsive(gone))
        }
        goneCandidate = nil
    }

    static func incarnations(_ members: [MemberInfo]) -> [NodeID: String] {
        Dictionary(members.map { ($0.id, $0.incarnation) }, uniquingKeysWith: { a, _ in a })
    }

    func tick() {
        metrics.observe(replica, leading: leader.isLeading)
        if ticks % 10 == 0 {
            perform(replica.on(.refresh))
            flush()
        }
        guard leader.isLeading else { return }
        leaderEvent(.tick(ticks))
    }

    /// ZooKeeper confirmed, with a round trip that started at `sentAtMs`, that this server still
    /// holds its member znode: reads are safe for a lease from then (see `LeaseTiming`).
    func renewLease(sentAtMs: UInt64) {
        perform(replica.on(.lease(until: leaseTiming.leaseEnd(sentAtMs: sentAtMs))))
        flush()
    }

    /// Our election znode was deleted (another server found us crashed, wrongly, or by hand):
    /// another server leads. Our chain writes would fail their version check anyway.
    func deposed() {
        loop.preconditionInEventLoop()
        guard leader.isLeading else { return }
        logger.warning("deposed: our election znode was removed; another server leads")
        leaderLinks?.close()
        leaderLinks = nil
        leaderEvent(.deposed)
    }

    /// Watches the candidate just below this one in the election; when its process is certainly
    /// gone its election znode is removed, so the next candidate leads now (see CandidateWatch).
    func watchCandidate(_ candidate: ElectionPeer?) {
        loop.preconditionInEventLoop()
        candidateWatch?.close()
        candidateWatch = nil
        guard let candidate, let coordination else { return }
        if candidate.nodeID == config.id {
            // A previous run of this server (crashed and restarted before its session expired):
            // that process is gone, and nobody else watches its znode. Remove it now.
            logger.notice("the election candidate below this one is a previous run of this server; removing it",
                          metadata: ["path": "\(candidate.path)"])
            removeFromElection(candidate, coordination)
            return
        }
        guard let address = addresses[candidate.nodeID] else {
            logger.info("no address for the election candidate below this one; relying on its session", metadata: [
                "candidate": "\(candidate.nodeID)"])
            return
        }
        let logger = self.logger
        candidateWatch = CandidateWatch(candidate: candidate, address: address, loop: loop, group: group, security: security.outbound,
                                        interval: .milliseconds(Int64(config.heartbeatIntervalMs)),
                                        limit: .milliseconds(Int64(config.heartbeatTimeoutMs))) { candidate, why in
            // CandidateWatch reports on the node's loop, so the mark is set before the removal
            // can make this server leader.
            self.loop.preconditionInEventLoop()
            logger.warning("election candidate is gone; removing its election znode",
                           metadata: ["candidate": "\(candidate.nodeID)", "why": "\(why)"])
            self.goneCandidate = candidate.nodeID
            self.removeFromElection(candidate, coordination)
        }
    }

    /// Removes a gone candidate's election znode; if that fails, its session timeout will.
    private func removeFromElection(_ candidate: ElectionPeer, _ coordination: CoordinationDriver) {
        let logger = self.logger
        Task {
            do {
                try await coordination.coordinator.evictCandidate(candidate)
            } catch {
                logger.warning("cannot remove a gone candidate's election znode; its session timeout will",
                               metadata: ["candidate": "\(candidate.nodeID)", "error": "\(error)"])
            }
        }
    }

    func leaderEvent(_ event: LeaderEvent) {
        loop.preconditionInEventLoop()
        for action in leader.on(event) {
            switch action {
            case .writeChain(let view, let expectedVersion):
                writeChain(view, expectedVersion: expectedVersion)
            case .startTransfer(let from, let to, let epoch):
                requestTransfer(from: from, to: to, epoch: epoch)
            case .fence(let node):
                fence(node)
            }
        }
    }

    /// Deletes the head's member znode, which makes its lease renewals fail, then waits out the
    /// lease it may hold plus the clock-rate margin (`LeaseTiming.fenceWaitMs`) before the core
    /// may drop it. Without the znode to delete (its session ended or a new run replaced it) its
    /// lease is over already.
    private func fence(_ member: NodeID) {
        guard let coordination else { return }
        let wait = TimeAmount.milliseconds(Int64(leaseTiming.fenceWaitMs))
        logger.notice("fencing an unresponsive head before dropping it", metadata: ["member": "\(member)", "waitMs": "\(leaseTiming.fenceWaitMs)"])
        let (loop, logger) = (self.loop, self.logger)
        Task {
            for attempt in 1...30 {
                do {
                    if try await coordination.coordinator.fence(member: member) {
                        try? await Task.sleep(nanoseconds: UInt64(wait.nanoseconds))
                    }
                    loop.execute { self.leaderEvent(.fenced(member)) }
                    return
                } catch {
                    logger.warning("cannot delete the member znode to fence it; retrying", metadata: [
                        "member": "\(member)", "attempt": "\(attempt)", "error": "\(error)"])
                    try? await Task.sleep(nanoseconds: 500_000_000)
                }
            }
        }
    }

    private func requestTransfer(from source: NodeID, to joiner: NodeID, epoch: UInt64) {
        guard let links = leaderLinks, let target = addresses[joiner] else {
            leaderEvent(.transferFailed(joiner: joiner))
            return
        }
        logger.notice("leader starts a join", metadata: ["joiner": "\(joiner)", "source": "\(source)", "epoch": "\(epoch)"])
        let loop = self.loop
        Task {
            let reply = try? await links.request(.startTransfer(epoch: epoch, leader: config.id, to: target), to: source, timeout: ChainNode.transferTimeout)
            loop.execute {
                if case .ack(_, let seq)? = reply {
                    self.logger.notice("join snapshot complete", metadata: ["joiner": "\(joiner)", "lastSeq": "\(seq)"])
                    self.leaderEvent(.transferDone(joiner: joiner))
                } else {
                    self.logger.warning("join failed; will retry", metadata: ["joiner": "\(joiner)", "reply": "\(String(describing: reply))"])
                    self.leaderEvent(.transferFailed(joiner: joiner))
                }
            }
        }
    }

    private func writeChain(_ view: ChainView, expectedVersion: Int32?) {
        guard let coordination else {
            preconditionFailure("the node joins the election only after its coordination driver is set")
        }
        var addressStrings: [String: String] = [:]
        for id in view.members {
            if let a = addresses[id] { addressStrings[id] = "\(a.host):\(a.port)" }
        }
        let config = ChainConfig(epoch: view.epoch, members: view.members, addresses: addressStrings,
                                 leader: self.config.id, incarnations: view.incarnations, syncing: Array(view.syncing))
        logger.notice("leader writes chain", metadata: ["epoch": "\(view.epoch)", "chain": "\(view.members.joined(separator: " -> "))"])
        let loop = self.loop
        Task {
            let result = await coordination.writeChain(config, expectedVersion: expectedVersion)
            loop.execute {
                switch result {
                case .written(let version):
                    self.metrics.chainWrites.increment()
                    self.leaderEvent(.chainWritten(view, version: version))
                case .conflict(let current):
                    self.logger.warning("chain write lost a race; re-deciding from the stored chain")
                    let currentView = current.map { $0.0.view }
                    self.leaderEvent(.chainWriteFailed(current: currentView, version: current?.version))
                }
            }
        }
    }

    static func parseAddress(id: String, _ s: String) -> NodeAddress? {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        return NodeAddress(id: id, host: String(s[..<colon]), port: port)
    }
}

extension ChainConfig {
    /// The configuration as the core sees it.
    var view: ChainView {
        ChainView(epoch: epoch, members: members, incarnations: incarnations, syncing: Set(syncing).intersection(members))
    }
}

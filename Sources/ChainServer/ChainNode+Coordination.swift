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

    /// ZooKeeper confirmed the session with a round trip that started at `sentAtMs`: the session
    /// cannot expire before `sentAtMs + sessionTimeout`, so reads are safe until well before that.
    func renewLease(sentAtMs: UInt64) {
        perform(replica.on(.lease(until: sentAtMs + UInt64(config.sessionTimeoutMs) / 2)))
        flush()
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

    /// Deletes the head's member znode, which stops its lease renewals, then waits out the lease
    /// it may hold (a full session timeout: twice the lease, the margin of the README's timing
    /// assumption) before the core may drop it. Without the znode to delete (its session ended or
    /// a new run replaced it) its lease is over already.
    private func fence(_ member: NodeID) {
        guard let coordination else { return }
        logger.notice("fencing an unresponsive head before dropping it", metadata: ["member": "\(member)"])
        let (loop, wait, logger) = (self.loop, TimeAmount.milliseconds(Int64(config.sessionTimeoutMs)), self.logger)
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

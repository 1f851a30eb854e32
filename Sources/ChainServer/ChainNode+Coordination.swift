import ChainCoordination
import ChainCore
import ChainWire
import Foundation
import NIOCore

/// What ZooKeeper tells a node, applied on the node's loop.
extension ChainNode {
    /// A chain configuration was read from the chain znode (every server watches it).
    func chainChanged(_ config: ChainConfig, version: Int32) {
        loop.preconditionInEventLoop()
        for (id, address) in config.addresses {
            if let parsed = Self.parseAddress(id: id, address) { addresses[id] = parsed }
        }
        let view = ChainView(epoch: config.epoch, members: config.members)
        guard view.epoch > replica.view.epoch else { return }
        logger.notice("chain reconfigured", metadata: [
            "epoch": "\(view.epoch)", "chain": "\(view.members.joined(separator: " -> "))",
            "role": "\(view.role(of: self.config.id).rawValue)", "leader": "\(config.leader)",
        ])
        perform(replica.on(.viewChanged(view)))
        flush()
    }

    func membersChanged(_ members: [MemberInfo]) {
        loop.preconditionInEventLoop()
        for m in members { addresses[m.id] = NodeAddress(id: m.id, host: m.host, port: m.port) }
        logger.info("membership changed", metadata: ["members": "\(members.map(\.id).sorted(by: Leader.chainOrder).joined(separator: ","))"])
        performLeader(leader.on(.membersChanged(members.map(\.id))))
    }

    func becameLeader(chain: (ChainConfig, version: Int32)?, live: [MemberInfo]) {
        loop.preconditionInEventLoop()
        for m in live { addresses[m.id] = NodeAddress(id: m.id, host: m.host, port: m.port) }
        logger.notice("elected leader", metadata: ["chain": "\(chain.map { "epoch \($0.0.epoch) \($0.0.members)" } ?? "none")"])
        let view = chain.map { ChainView(epoch: $0.0.epoch, members: $0.0.members) }
        performLeader(leader.on(.elected(chain: view, version: chain?.version, live: live.map(\.id), now: ticks)))
    }

    func tick() {
        guard leader.isLeading else { return }
        performLeader(leader.on(.tick(ticks)))
    }

    func performLeader(_ actions: [LeaderAction]) {
        for action in actions {
            switch action {
            case .writeChain(let view, let expectedVersion):
                writeChain(view, expectedVersion: expectedVersion)
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
                                 leader: self.config.id, updatedAt: ISO8601DateFormatter().string(from: Date()))
        logger.notice("leader writes chain", metadata: ["epoch": "\(view.epoch)", "chain": "\(view.members.joined(separator: " -> "))"])
        let loop = self.loop
        Task {
            let result = await coordination.writeChain(config, expectedVersion: expectedVersion)
            loop.execute {
                switch result {
                case .written(let version):
                    self.performLeader(self.leader.on(.chainWritten(view, version: version)))
                case .conflict(let current):
                    self.logger.warning("chain write lost a race; re-deciding from the stored chain")
                    let currentView = current.map { ChainView(epoch: $0.0.epoch, members: $0.0.members) }
                    self.performLeader(self.leader.on(.chainWriteFailed(current: currentView, version: current?.version)))
                }
            }
        }
    }

    static func parseAddress(id: String, _ s: String) -> NodeAddress? {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        return NodeAddress(id: id, host: String(s[..<colon]), port: port)
    }
}

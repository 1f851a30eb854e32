import ChainCoordination
import ChainCore
import ChainWire

/// Where each server listens, learned from the chain znode and the member znodes (and this
/// server's own configuration). Shared by the shells of one server; confined to its loop.
final class AddressBook: @unchecked Sendable {
    private var addresses: [NodeID: NodeAddress] = [:]
    /// The members registered in ZooKeeper when last told (their member znodes), this server included.
    private(set) var registered: Set<NodeID> = []

    /// This server's id.
    let own: NodeID

    init(own: NodeAddress) {
        self.own = own.id
        addresses[own.id] = own
    }

    subscript(id: NodeID) -> NodeAddress? { addresses[id] }

    /// Addresses a chain znode names ("host:port" strings); unreadable ones are skipped.
    func learn(_ config: ChainConfig) {
        for (id, text) in config.addresses {
            if let parsed = NodeAddress(id: id, parsing: text) { addresses[id] = parsed }
        }
    }

    /// The registered members, all of them (a membership change or an election's live members).
    func learn(_ members: [MemberInfo]) {
        for m in members { addresses[m.id] = m.nodeAddress }
        registered = Set(members.map(\.id))
    }

    /// The chain as clients see it: members in order with their addresses.
    func chainInfo(_ view: ChainView) -> ChainInfo {
        ChainInfo(epoch: view.epoch, members: view.members.map { self[$0] ?? NodeAddress(id: $0, host: "unknown", port: 1) })
    }

    /// "host:port" of each member that has a known address, as the chain znode stores them.
    func hostPorts(_ members: [NodeID]) -> [NodeID: String] {
        var result: [NodeID: String] = [:]
        for id in members { if let a = self[id] { result[id] = a.hostPort } }
        return result
    }
}

extension MemberInfo {
    var nodeAddress: NodeAddress { NodeAddress(id: id, host: host, port: port) }
}

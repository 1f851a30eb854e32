import ChainCore
import ChainWire

/// `relay`: a keyed request passed to the head of the key's chain (`HeadRelay`), for a client
/// that reaches this server but not that head.
extension ServerNode {
    func relay(_ inner: Message, ref: ClientRef) {
        let chain: String
        if config.sharded {
            guard let slots else { return reply(.error(.unavailable, "no slot map yet: the cluster is being formed"), to: ref) }
            chain = slots.owners[SlotMap.slot(of: Self.key(of: inner))]
        } else {
            chain = ClusterLeader.soleChain
        }
        guard let head = relayHead(of: chain) else {
            metrics.request("relay", status: "no_head", chain: chain)
            return reply(.error(.unavailable, "no head of chain \(chain) is known here to relay to"), to: ref)
        }
        // This server heads the chain (the client's routes are older than the chain): it answers
        // as if asked directly, and refuses as it would then.
        if head == config.id { return request(inner, ref: ref) }
        guard let address = context.addresses[head] else {
            metrics.request("relay", status: "no_head", chain: chain)
            return reply(.error(.unavailable, "the address of \(head), the head of chain \(chain), is not known here"), to: ref)
        }
        metrics.request("relay", status: "relayed", chain: chain)
        headRelay.relay(inner, to: address, for: ref)
    }

    /// The head of `chain` as this server knows it: from the newer of the configuration it read
    /// from ZooKeeper and its own replica's view, if it holds one.
    private func relayHead(of chain: String) -> NodeID? {
        let view = chains[chain]?.shell.core.view
        guard let stored = configs[chain] else { return view?.head }
        if let view, view.epoch > stored.epoch { return view.head }
        return stored.members.first
    }

    /// The key of a relayable request (`Message.isRelayable`).
    static func key(of request: Message) -> String {
        switch request {
        case .get(let key), .put(let key, _, _), .delete(let key, _), .getVersioned(let key), .putVersioned(let key, _, _, _),
             .deleteVersioned(let key, _, _):
            return key
        default:
            preconditionFailure("\(request.kind) is not relayed")
        }
    }
}

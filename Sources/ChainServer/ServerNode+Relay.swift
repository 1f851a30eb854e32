import ChainCore
import ChainWire

/// `relay`: a keyed request passed to the head of the key's chain (`HeadRelay`), for a client
/// that reaches this server but not that head.
extension ServerNode {
    /// Passes `inner` to the head of `chain`, the chain the client's slot map names for its key.
    /// Not this server's map: a client retrying a write whose first attempt may have reached
    /// that chain must reach the same chain again, whose head answers `moved` if the slot left
    /// it (the client then decides, as for a direct attempt).
    func relay(_ inner: Message, chain: String, ref: ClientRef) {
        guard knows(chain, ref), names(chain, inner, ref) else { return }
        guard let head = relayHead(of: chain) else {
            metrics.request("relay", status: "no_head", chain: label(chain))
            return reply(.error(.unavailable, "no head of chain \(chain) is known here to relay to"), to: ref)
        }
        // This server heads the chain (the client's routes are older than the chain): it answers
        // as if asked directly, and refuses as it would then.
        if head == config.id { return request(inner, ref: ref, chain: chain) }
        guard let address = context.addresses[head] else {
            metrics.request("relay", status: "no_head", chain: label(chain))
            return reply(.error(.unavailable, "the address of \(head), the head of chain \(chain), is not known here"), to: ref)
        }
        metrics.request("relay", status: "relayed", chain: label(chain))
        headRelay.relay(.relayed(chain: chain, inner), to: address, for: ref)
    }

    /// `relayed`: answered here as the head of `chain`, never passed on (so a relay is one hop
    /// even while two servers' views of the chain disagree); `moved` if this server's map places
    /// the key in another chain, "not the head" if this server no longer heads it.
    func relayed(_ inner: Message, chain: String, ref: ClientRef) {
        guard knows(chain, ref), names(chain, inner, ref) else { return }
        request(inner, ref: ref, chain: chain)
    }

    /// `chain` as a metrics label: a chain id the client chose, kept only if this server knows
    /// the chain, so that made-up ids cannot grow the server's label sets without bound.
    private func label(_ chain: String) -> String {
        configs[chain] != nil || chains[chain] != nil ? chain : "unknown"
    }

    /// A scan or a watch names its chain itself: the relay must name the same (answered here; false).
    private func names(_ chain: String, _ inner: Message, _ ref: ClientRef) -> Bool {
        let named: String
        switch inner {
        case .scan(let c, _, _, _), .watch(let c, _, _, _, _): named = c
        default: return true
        }
        guard named != chain else { return true }
        reply(.error(.badRequest, "a relay for chain \(chain) of a \(inner.kind) of chain \(named)"), to: ref)
        return false
    }

    /// An unsharded server has one chain: another id is a bad request (answered here; false).
    private func knows(_ chain: String, _ ref: ClientRef) -> Bool {
        guard !config.sharded, chain != ClusterLeader.soleChain else { return true }
        reply(.error(.badRequest, "this cluster has a single chain, \(ClusterLeader.soleChain), not \(chain)"), to: ref)
        return false
    }

    /// The head of `chain` as this server knows it: from the newer of the configuration it read
    /// from ZooKeeper and its own replica's view, if it holds one.
    private func relayHead(of chain: String) -> NodeID? {
        let view = chains[chain]?.shell.core.view
        guard let stored = configs[chain] else { return view?.head }
        if let view, view.epoch > stored.epoch { return view.head }
        return stored.members.first
    }
}

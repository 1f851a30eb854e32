import ChainCore
import ChainWire

/// Routing a range read to the chain it names.
extension ServerNode {
    /// A page of `range` from chain `chain`, whose head this server should be. A sharded server
    /// answers only for the map version the client routes by: with another map, a slot may
    /// have changed chains, and the client's merge of the chains' pages would miss or repeat it.
    func scan(chain: String, mapVersion: UInt64, range: KeyRange, limit: UInt32, ref: ClientRef) {
        guard config.keyIndex else {
            metrics.request("scan", status: "refused", chain: chain)
            return reply(.error(.refused, "range reads are off on this server (keyIndex: false in its configuration)"), to: ref)
        }
        guard config.sharded else {
            guard chain == ClusterLeader.soleChain, let sole = chains[chain] else {
                return reply(.error(.badRequest, "this cluster has a single chain, \(ClusterLeader.soleChain)"), to: ref)
            }
            return sole.shell.scan(range, limit: Int(limit), owns: { _ in true }, ref: ref)
        }
        guard let slots else {
            return reply(.error(.unavailable, "no slot map yet: the cluster is being formed"), to: ref)
        }
        guard slots.version == mapVersion else {
            metrics.request("scan", status: "moved", chain: chain)
            return reply(.moved(slot: 0, mapVersion: slots.version), to: ref)
        }
        guard let hosted = chains[chain], hosted.shell.core.view.members.contains(config.id) || named(in: chain) else {
            return reply(.error(.notHead, "this server is not in chain \(chain)"), to: ref)
        }
        // The donor of a move still owns its slots (and refuses their writes) until the map that
        // completes it, so its pages hold them and the recipient's, which may hold part of a
        // copy, leave them out.
        hosted.shell.scan(range, limit: Int(limit), owns: { slots.owners[SlotMap.slot(of: $0)] == chain }, ref: ref)
    }
}

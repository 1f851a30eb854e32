import ChainCore
import ChainWire

/// Routing a watch to the chain it names.
extension ServerNode {
    func watch(chain: String, range: KeyRange, after: UInt64?, limit: UInt32, waitMs: UInt32, ref: ClientRef) {
        let id = config.sharded ? chain : ClusterLeader.soleChain
        guard config.sharded || chain == ClusterLeader.soleChain else {
            return reply(.error(.badRequest, "this cluster has a single chain, \(ClusterLeader.soleChain)"), to: ref)
        }
        guard let hosted = chains[id], hosted.shell.core.view.members.contains(config.id) || named(in: id) else {
            return reply(.error(.notHead, "this server is not in chain \(chain)"), to: ref)
        }
        hosted.shell.watch(range, after: after, limit: Int(limit), waitMs: waitMs, ref: ref)
    }
}

import ChainCoordination
import ChainCore
import NIOCore

/// The watch on the election candidate just below this server (see CandidateWatch): when its
/// process is certainly gone its election znode is removed, so the next candidate leads now.
extension LeaderShell {
    func watchCandidate(_ candidate: ElectionPeer?) {
        candidateWatch?.close()
        candidateWatch = nil
        guard let candidate, let coordination else { return }
        if candidate.nodeID == id {
            // A previous run of this server (crashed and restarted before its session expired):
            // that process is gone, and nobody else watches its znode. Remove it now.
            logger.notice("the election candidate below this one is a previous run of this server; removing it",
                          metadata: ["path": "\(candidate.path)"])
            evict(candidate, coordination)
            return
        }
        guard let address = context.addresses[candidate.nodeID] else {
            logger.info("no address for the election candidate below this one; relying on its session", metadata: [
                "candidate": "\(candidate.nodeID)"])
            return
        }
        let loop = context.loop
        candidateGeneration += 1
        let generation = candidateGeneration
        candidateWatch = dialer.candidate(candidate, address) { [weak self] candidate, why in
            // Reported on the loop, so the mark is set before the removal can make this server leader.
            loop.preconditionInEventLoop()
            guard let self else { return }
            guard case .silent = why, let answering = self.dialer.answering else {
                return self.remove(candidate, why, coordination)
            }
            // Silence may be ours: only with a majority of the members reachable is it the candidate's.
            let others = self.context.addresses.registered.subtracting([self.id])
            let peers = others.subtracting([candidate.nodeID]).sorted().compactMap { self.context.addresses[$0] }
            answering(peers).whenSuccess { [weak self] count in
                guard let self, self.candidateGeneration == generation else { return }
                if QuorumCheck.isMajority(answering: count, others: others.count) {
                    self.remove(candidate, why, coordination)
                } else {
                    self.logger.warning("election candidate answers no ping, but neither do most members: not removing it (this server may be the one cut off)",
                                        metadata: ["candidate": "\(candidate.nodeID)", "answered": "\(count)", "others": "\(others.count)"])
                    self.watchCandidate(candidate)
                }
            }
        }
    }

    private func remove(_ candidate: ElectionPeer, _ why: CandidateAbsence, _ coordination: LeaderCoordination) {
        logger.warning("election candidate is gone; removing its election znode",
                       metadata: ["candidate": "\(candidate.nodeID)", "why": "\(why)"])
        goneCandidate = candidate.nodeID
        evict(candidate, coordination)
    }

    /// Removes a gone candidate's election znode; if that fails, its session timeout will.
    private func evict(_ candidate: ElectionPeer, _ coordination: LeaderCoordination) {
        let logger = self.logger
        coordination.evict(candidate, on: context.loop).whenFailure { error in
            logger.warning("cannot remove a gone candidate's election znode; its session timeout will",
                           metadata: ["candidate": "\(candidate.nodeID)", "error": "\(error)"])
        }
    }
}

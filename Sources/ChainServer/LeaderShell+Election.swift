import ChainCoordination
import ChainCore
import NIOCore

/// The watch on the election candidate just below this server (see CandidateWatch): when its
/// process is certainly gone its election znode is removed, so the next candidate leads now.
extension LeaderShell {
    func watchCandidate(_ candidate: ElectionPeer?) {
        candidateWatch?.close()
        candidateWatch = nil
        candidateGeneration += 1  // a late answer about an earlier candidate is ignored
        guard let candidate, let coordination else { return }
        if candidate.nodeID == id {
            // A previous run of this server (crashed and restarted before its session expired):
            // that process is gone, and nobody else watches its znode. Remove it now.
            logger.notice("the election candidate below this one is a previous run of this server; removing it",
                          metadata: ["path": "\(candidate.path)"])
            evict(candidate, onlyIfLeading: false, coordination)
            return
        }
        guard let address = context.addresses[candidate.nodeID] else {
            logger.info("no address for the election candidate below this one; relying on its session", metadata: [
                "candidate": "\(candidate.nodeID)"])
            return
        }
        let loop = context.loop
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

    /// A refused dial means the process is gone: its znode goes. Silence may be a cut between
    /// this server and the candidate alone: its znode goes only while it leads (see
    /// `Coordinator.evictCandidate`); otherwise the watch goes on.
    private func remove(_ candidate: ElectionPeer, _ why: CandidateAbsence, _ coordination: LeaderCoordination) {
        let silent: Bool
        if case .silent = why { silent = true } else { silent = false }
        logger.warning("election candidate is gone; removing its election znode\(silent ? " if it leads" : "")",
                       metadata: ["candidate": "\(candidate.nodeID)", "why": "\(why)"])
        goneCandidate = candidate.nodeID
        let generation = candidateGeneration
        evict(candidate, onlyIfLeading: silent, coordination).whenSuccess { [weak self] removed in
            // Only a silent one is watched again (a refused dial's process is gone either way).
            guard let self, silent, !removed, self.candidateGeneration == generation else { return }
            self.goneCandidate = nil
            self.logger.info("silent election candidate does not lead: its election znode stays", metadata: [
                "candidate": "\(candidate.nodeID)"])
            self.watchCandidate(candidate)
        }
    }

    /// Removes a gone candidate's election znode; if that fails, its session timeout will.
    @discardableResult
    private func evict(_ candidate: ElectionPeer, onlyIfLeading: Bool, _ coordination: LeaderCoordination) -> EventLoopFuture<Bool> {
        let logger = self.logger
        return coordination.evict(candidate, onlyIfLeading: onlyIfLeading, on: context.loop).always { result in
            if case .failure(let error) = result {
                logger.warning("cannot remove a gone candidate's election znode; its session timeout will",
                               metadata: ["candidate": "\(candidate.nodeID)", "error": "\(error)"])
            }
        }
    }
}

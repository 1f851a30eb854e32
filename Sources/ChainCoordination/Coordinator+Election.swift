/// Leader election, ZooKeeper's recipe: every candidate creates an EPHEMERAL|SEQUENCE znode under `election`;
/// the lowest sequence leads. Each candidate watches only the znode just below its own (no herd effect when the
/// leader goes), and when that one disappears it lists the candidates again rather than assuming it leads: the
/// one that vanished may have been a candidate in the middle that crashed, not the leader.
extension Coordinator {
    /// Stands as a candidate (once; later calls only re-check). Returns whether this node leads now; later
    /// changes arrive as `.becameLeader`.
    @discardableResult
    public func joinElection() async throws -> Bool {
        if electionNode == nil {
            try await withReconnect { try await self.client.ensurePath(self.paths.election) }
            try await removeEarlierRuns()
            electionNode = try await createCandidate()
            logger.info("joined the election", metadata: ["candidate": "\(electionNode ?? "")"])
        }
        try await serialized(.election) { try await self.checkElection() }
        return isLeader
    }

    /// The node id of the current leader (data of the lowest election znode), or nil if there is no candidate.
    public func leaderID() async throws -> String? {
        for _ in 0..<Self.maxAttempts {
            let names: [String]
            do {
                names = try await withReconnect { try await self.client.children(self.paths.election) }
            } catch ZooKeeperError.noNode {
                return nil
            }
            guard let lowest = ElectionOrder.sorted(names).first else { return nil }
            do {
                let (data, _) = try await withReconnect {
                    try await self.client.getData("\(self.paths.election)/\(lowest.name)")
                }
                return String(decoding: data, as: UTF8.self)
            } catch ZooKeeperError.noNode {
                continue  // that leader left between the listing and the read: list again
            }
        }
        throw ZooKeeperError.noNode
    }

    /// Finds where this node stands and arms the one watch it needs.
    func checkElection() async throws {
        while let mine = electionNode {
            let ordered = ElectionOrder.sorted(try await client.children(paths.election))
            let myName = String(mine.dropFirst(paths.election.count + 1))
            guard ordered.contains(where: { $0.name == myName }) else {
                // Our candidate is gone although the session lives: the candidate behind us found us crashed
                // or silent (`evictCandidate`), or someone deleted it by hand. Another candidate may lead now,
                // so stop leading and stand again, at the back.
                if isLeader { emit(.deposed) }
                isLeader = false
                watchedPredecessor = nil
                // A later run of this server holds its member znode (it removed this candidate in
                // `removeEarlierRuns`): this run was paused and is on its way out. Standing again
                // would leave a candidate under this node's id that nobody removes (the server
                // behind it watches the id's address, where the later run answers) until this
                // session expires.
                if let member = try await client.stat(paths.member(nodeID)), member.ephemeralOwner != client.sessionID {
                    logger.error("own election znode disappeared and a later run holds this server's member znode; not standing again",
                                 metadata: ["candidate": "\(mine)"])
                    electionNode = nil
                    return
                }
                logger.error("own election znode disappeared; standing again", metadata: ["candidate": "\(mine)"])
                electionNode = try await createCandidate()
                continue
            }
            // Watch our own znode too: only its deletion by someone else could end our candidacy while the
            // session lives, and then we must stop leading.
            guard try await client.exists(mine, watch: true) != nil else { continue }
            guard let predecessor = ElectionOrder.predecessor(of: myName, in: ordered) else {
                watchedPredecessor = nil
                reportPredecessor(nil)
                if !isLeader {
                    isLeader = true
                    logger.notice("became leader", metadata: ["candidate": "\(mine)"])
                    emit(.becameLeader)
                }
                return
            }
            let predecessorPath = "\(paths.election)/\(predecessor.name)"
            watchedPredecessor = predecessorPath
            if try await client.exists(predecessorPath, watch: true) != nil {
                logger.debug("waiting behind predecessor", metadata: ["predecessor": "\(predecessorPath)"])
                if let (data, _) = try? await client.getData(predecessorPath) {
                    reportPredecessor(ElectionPeer(nodeID: String(decoding: data, as: UTF8.self), path: predecessorPath))
                }
                return
            }
            // The predecessor left between the listing and the watch: list again.
        }
    }

    private func reportPredecessor(_ candidate: ElectionPeer?) {
        guard candidate != reportedPredecessor else { return }
        reportedPredecessor = candidate
        emit(.electionPredecessor(candidate))
    }

    /// Removes the election znode of a candidate whose process is gone (its port refuses
    /// connections) or silent past the heartbeat timeout, so that the next candidate takes over
    /// now instead of after that candidate's session timeout. Only the znode named, and only while it still holds that
    /// node's id: a candidate that stood again has a new znode. If the evidence was wrong (the
    /// process lives), that candidate stands again at the back and, if it led, stops leading;
    /// a deposed leader's chain writes fail their version check.
    ///
    /// `onlyIfLeading`: remove it only while it is the first candidate (the leader). A candidate
    /// that is only silent, not gone, may be cut from this server alone; removing one that does
    /// not lead gains nothing (the next leader is still found when the leader goes), and two
    /// servers cut from each other but not from the rest would remove each other's znode in
    /// turn for as long as the cut lasts (found by a partition test). Returns whether it removed it.
    @discardableResult
    public func evictCandidate(_ candidate: ElectionPeer, onlyIfLeading: Bool = false) async throws -> Bool {
        do {
            if onlyIfLeading {
                let ordered = ElectionOrder.sorted(try await withReconnect { try await self.client.children(self.paths.election) })
                guard let first = ordered.first, candidate.path == "\(paths.election)/\(first.name)" else { return false }
            }
            let (data, stat) = try await withReconnect { try await self.client.getDataAndStat(candidate.path) }
            guard String(decoding: data, as: UTF8.self) == candidate.nodeID else { return false }
            try await client.delete(candidate.path, version: stat.version)
            logger.notice("removed the election znode of a gone candidate", metadata: [
                "candidate": "\(candidate.nodeID)", "path": "\(candidate.path)"])
            return true
        } catch ZooKeeperError.noNode {
            // Gone already: its session ended, or another server removed it.
            return false
        }
    }

    /// Removes the candidates of earlier runs of this server (its node id, another session): a
    /// run that crashed and restarted before its session expired left its znode where it stood,
    /// perhaps first. Only the candidate just behind it watches it, and that one may be cut off
    /// from ZooKeeper: torture seed 204 went 3 s without a leader until the dead run's session
    /// expired. This run knows that process is gone (it took its member znode over, which makes a
    /// live one exit), so the next candidate leads now.
    private func removeEarlierRuns() async throws {
        let session = client.sessionID
        let names = try await withReconnect { try await self.client.children(self.paths.election) }
        for candidate in ElectionOrder.sorted(names) {
            let path = "\(paths.election)/\(candidate.name)"
            do {
                let (data, stat) = try await withReconnect { try await self.client.getDataAndStat(path) }
                guard stat.ephemeralOwner != session, String(decoding: data, as: UTF8.self) == nodeID else { continue }
                try await withReconnect { try await self.client.delete(path, version: stat.version) }
                logger.notice("removed the election znode of an earlier run of this server", metadata: ["path": "\(path)"])
            } catch ZooKeeperError.noNode {
                continue  // its session ended meanwhile
            }
        }
    }

    /// Creates this node's candidate znode. When the connection drops during the create, the znode may exist
    /// without our knowing its name; a second one would then sit below nobody's attention, so look for a
    /// candidate owned by this session before creating again.
    func createCandidate() async throws -> String {
        let data = Array(nodeID.utf8)
        var attempt = 1
        while true {
            do {
                return try await client.create(paths.electionPrefix, data: data, mode: .ephemeralSequential)
            } catch let error as ZooKeeperError where error.isConnectionProblem && attempt < Self.maxAttempts {
                try await waitForReconnect(attempt: attempt)
                attempt += 1
                if let existing = try await withReconnect({ try await self.ownCandidate() }) {
                    return existing
                }
            }
        }
    }

    /// The lowest election znode held by this session, if any.
    private func ownCandidate() async throws -> String? {
        let session = client.sessionID
        for candidate in ElectionOrder.sorted(try await client.children(paths.election)) {
            let path = "\(paths.election)/\(candidate.name)"
            if let stat = try await client.stat(path), stat.ephemeralOwner == session {
                return path
            }
        }
        return nil
    }
}

extension Coordinator {
    /// Reads of the member znode before a fence gives up: each further read follows a change made
    /// between the fence's read and its delete (a registration, a rewrite), which needs a server
    /// starting at that moment; the leader retries a failed fence later (`.fenceFailed`).
    static let fenceAttemptsMax = 16

    /// A member znode as a fence read it: the members folder's data version (read first), then the
    /// znode's own version and the run that wrote it.
    struct FenceTarget: Sendable, Hashable {
        var id: String
        var folderVersion: Int32
        var version: Int32
        var incarnation: String?
    }

    /// Deletes member `id`'s znode if the run `incarnation` still holds it (nil: whichever run
    /// does), so that the run's lease renewals (`holdsMemberZnode`) fail from then on.
    ///
    /// Returns false only if there was no znode to delete and no delete of ours for it may have
    /// gone through. Returns true if it deleted the znode, if a delete of ours may have (its answer
    /// lost with the connection, or refused only on a retry), or if a newer run of the server holds
    /// it: that run is not the one being fenced (deleting its znode made it exit, and a server
    /// killed and restarted at once never rejoined: FailureTests, CI of 93e3d80), and the fenced
    /// run, which no longer holds the znode, cannot renew its lease either. With true, the caller
    /// waits the lease out.
    ///
    /// A znode created after the fence read the members folder is never deleted by that read: the
    /// delete is a multi that also checks the folder's version, which every creation of a member
    /// znode moves (`register(member:)`), so it is refused and the fence reads again; a fence of a
    /// named run then finds the newer run and leaves it.
    public func fence(member id: String, incarnation: String? = nil) async throws -> Bool {
        for _ in 0..<Self.fenceAttemptsMax {
            guard let target = try await fenceTarget(id) else {
                return fenceDeletesInDoubt.remove(id) != nil
            }
            if let incarnation, target.incarnation != incarnation {
                fenceDeletesInDoubt.remove(id)
                return true
            }
            if let deleted = try await deleteFenceTarget(target) {
                fenceDeletesInDoubt.remove(id)
                return deleted
            }
        }
        throw CoordinationError.contended(paths.member(id))
    }

    /// Reads what a fence of member `id` would delete; nil if it has no znode.
    func fenceTarget(_ id: String) async throws -> FenceTarget? {
        let path = paths.member(id)
        // The folder first: a znode created after this read moves the version the delete checks.
        guard let folder = try await withReconnect({ try await self.client.stat(self.paths.members) }) else { return nil }
        do {
            let current = try await withReconnect { try await self.client.getDataAndStat(path) }
            return FenceTarget(id: id, folderVersion: folder.version, version: current.stat.version,
                               incarnation: (try? MemberInfo.decode(current.data))?.incarnation)
        } catch ZooKeeperError.noNode {
            return nil
        }
    }

    /// Deletes `target` unless the folder or the znode changed since it was read: true if deleted
    /// or gone meanwhile (it held the znode a round trip ago), nil if refused (read again).
    /// From the moment it is sent until a fence of the member returns, the member is in
    /// `fenceDeletesInDoubt`: a retry after a lost answer may be refused, or find nothing, although
    /// the first try deleted the znode.
    func deleteFenceTarget(_ target: FenceTarget) async throws -> Bool? {
        fenceDeletesInDoubt.insert(target.id)
        do {
            try await withReconnect {
                try await self.client.multi([
                    .check(path: self.paths.members, version: target.folderVersion),
                    .delete(path: self.paths.member(target.id), version: target.version),
                ])
            }
            return true
        } catch let refused as ZooKeeperMultiError {
            switch (refused.index, refused.error) {
            case (_, .badVersion): return nil
            case (1, .noNode): return true
            default: throw refused
            }
        }
    }
}

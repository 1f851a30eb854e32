extension Coordinator {
    /// Publishes this server as live: creates the ephemeral znode `members/<id>`.
    ///
    /// A server restarted right after a crash may find that znode still held by its previous session, which
    /// the server only removes when that session times out. The id is ours, so the old znode is deleted and ours
    /// created at once instead of failing or waiting out the timeout; the leader sees the old incarnation leave
    /// and the new one arrive (different `startedAt`/`pid`).
    ///
    /// Every creation also moves the members folder's data version, in the same transaction: a fence
    /// deletes a member znode only while the folder is at the version it read before the znode, so a
    /// znode created after that read is never deleted by it (`fence(member:incarnation:)` reads again).
    public func register(member: MemberInfo) async throws {
        guard member.id == nodeID else {
            throw CoordinationError.memberIDMismatch(expected: nodeID, got: member.id)
        }
        let data = try member.encoded()
        let path = paths.member(nodeID)
        let creation: [ZooKeeperOp] = [
            .setData(path: paths.members, data: [], version: -1),
            .create(path: path, data: data, mode: .ephemeral),
        ]
        try await withReconnect { try await self.client.ensurePath(self.paths.members) }
        for _ in 0..<Self.maxAttempts {
            do {
                try await withReconnect { try await self.client.multi(creation) }
                logger.info("registered member", metadata: ["path": "\(path)", "address": "\(member.address)"])
                return
            } catch let refused as ZooKeeperMultiError where refused.index == 1 && refused.error == .nodeExists {
                guard let stat = try await withReconnect({ try await self.client.stat(path) }) else {
                    continue  // it went away meanwhile: create again
                }
                if stat.ephemeralOwner == client.sessionID {
                    // Our own create went through before a connection loss hid its answer.
                    try await withReconnect { try await self.client.setData(path, data: data) }
                    return
                }
                logger.notice("member znode held by another session (a previous incarnation?); replacing it", metadata: [
                    "path": "\(path)", "owner": "0x\(String(stat.ephemeralOwner, radix: 16))",
                ])
                do {
                    // Versioned: if its data changed since the stat, someone is using it; look again first.
                    try await withReconnect { try await self.client.delete(path, version: stat.version) }
                } catch ZooKeeperError.noNode {
                } catch ZooKeeperError.badVersion {
                }
            } catch let refused as ZooKeeperMultiError {
                throw refused.error  // not ours to write (NOAUTH), or the folder deleted meanwhile: as a plain create failed
            }
        }
        throw ZooKeeperError.nodeExists
    }

    /// Whether this session still holds this node's member znode: a ZooKeeper round trip that
    /// also says whether the leader fenced us.
    /// Synced first: a lagging ZooKeeper server must not report a znode the leader already deleted
    /// (the lease the answer renews starts before the sync was sent, see `LeaseTiming`).
    public func holdsMemberZnode() async throws -> Bool {
        try await client.sync(paths.member(nodeID))
        guard let stat = try await client.stat(paths.member(nodeID)) else { return false }
        return stat.ephemeralOwner == client.sessionID
    }
}

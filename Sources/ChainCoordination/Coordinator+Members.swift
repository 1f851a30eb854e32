extension Coordinator {
    /// The members registered now (their znodes' data), sorted by id. Znodes with bad data are skipped (logged).
    public func liveMembers() async throws -> [MemberInfo] {
        do {
            let names = try await withReconnect { try await self.client.children(self.paths.members) }
            return try await readMembers(names)
        } catch ZooKeeperError.noNode {
            return []
        }
    }

    /// Starts delivering `.membersChanged`: the current list now, then after every join or leave.
    public func watchMembers() async throws {
        try await withReconnect { try await self.client.ensurePath(self.paths.members) }
        watchingMembers = true
        try await serialized(.members) { try await self.refreshMembers() }
    }

    /// Lists the members with the child watch armed (watches fire once: each firing leads back here).
    func refreshMembers() async throws {
        let names: [String]
        do {
            names = try await client.children(paths.members, watch: true)
        } catch ZooKeeperError.noNode {
            // Deleted by hand (watchMembers made it): no members, and watch for it to come back.
            if try await client.exists(paths.members, watch: true) != nil { return try await refreshMembers() }
            names = []
        }
        let members = try await readMembers(names)
        // Re-arming after a reconnection reads the same list again: report changes only.
        guard members != lastMembersEmitted else { return }
        lastMembersEmitted = members
        emit(.membersChanged(members))
    }

    private func readMembers(_ names: [String]) async throws -> [MemberInfo] {
        var members: [MemberInfo] = []
        for name in names.sorted() {
            do {
                let (data, _) = try await client.getData(paths.member(name))
                let member = try MemberInfo.decode(data)
                guard member.id == name else {
                    logger.warning("member znode names another id; ignored", metadata: ["znode": "\(name)", "id": "\(member.id)"])
                    continue
                }
                members.append(member)
            } catch ZooKeeperError.noNode {
                continue  // left between the listing and the read
            } catch let error as CoordinationError {
                logger.warning("member znode with bad data ignored", metadata: ["znode": "\(name)", "error": "\(error)"])
            }
        }
        return members
    }
}

extension Coordinator {
    /// The members registered now (their znodes' data), sorted by id. Znodes with bad data are skipped (logged).
    public func liveMembers() async throws -> [MemberInfo] {
        try await liveMembersAndVersion().members
    }

    /// `liveMembers()` with the listing's version, as `.membersChanged` carries it.
    public func liveMembersAndVersion() async throws -> (members: [MemberInfo], version: Int64) {
        do {
            let (names, stat) = try await withReconnect { try await self.client.childrenAndStat(self.paths.members) }
            return (try await readMembers(names), stat.childrenZxid)
        } catch ZooKeeperError.noNode {
            return ([], -1)
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
        let version: Int64
        do {
            let listing = try await client.childrenAndStat(paths.members, watch: true)
            (names, version) = (listing.names, listing.stat.childrenZxid)
        } catch ZooKeeperError.noNode {
            // Deleted by hand (watchMembers made it): no members, and watch for it to come back.
            if try await client.exists(paths.members, watch: true) != nil { return try await refreshMembers() }
            (names, version) = ([], -1)
        }
        let members = try await readMembers(names)
        // Re-arming after a reconnection reads the same list again: report changes only.
        guard members != lastMembersEmitted else { return }
        lastMembersEmitted = members
        emit(.membersChanged(members, version: version))
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

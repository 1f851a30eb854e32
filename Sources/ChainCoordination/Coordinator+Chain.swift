extension Coordinator {
    /// The chain configuration and its znode version, or nil before the first leader wrote one.
    /// Throws `CoordinationError` if the znode holds something else.
    public func readChain() async throws -> (ChainConfig, version: Int32)? {
        try await readVersioned(paths.chain, ChainConfig.decode)
    }

    /// Writes the chain configuration if the znode still has `expectedVersion` (as read with `readChain`), or
    /// creates it if `expectedVersion` is nil. Returns the new version.
    ///
    /// This is the fence against a deposed leader: if anyone wrote since it read, the write fails with
    /// `ZooKeeperError.badVersion` (or `nodeExists` for a create); re-read, and re-decide only if still leader.
    @discardableResult
    public func writeChain(_ config: ChainConfig, expectedVersion: Int32?) async throws -> Int32 {
        let version = try await writeVersioned(paths.chain, parent: paths.root, data: try config.encoded(), expectedVersion: expectedVersion)
        logger.info("wrote chain", metadata: ["epoch": "\(config.epoch)", "members": "\(config.members)", "version": "\(version)"])
        return version
    }

    /// Writes `data` to `path` if the znode still has `expectedVersion`, or creates it (and
    /// `parent`) if `expectedVersion` is nil; returns the new version. A conditional write is
    /// how every leader write is fenced: see `writeChain`.
    func writeVersioned(_ path: String, parent: String, data: [UInt8], expectedVersion: Int32?) async throws -> Int32 {
        var attempt = 1
        while true {
            do {
                if let expectedVersion {
                    return try await client.setData(path, data: data, version: expectedVersion)
                }
                try await withReconnect { try await self.client.ensurePath(parent) }
                try await client.create(path, data: data, mode: .persistent)
                return 0
            } catch let error as ZooKeeperError where error.isConnectionProblem && attempt < Self.maxAttempts {
                try await waitForReconnect(attempt: attempt)
                attempt += 1
                // The write may have landed before the connection dropped. Retrying blindly would then fail
                // against our own write (badVersion) and look like being fenced; recognize it instead (the
                // encoding is deterministic, and updatedAt makes the bytes unique).
                let expectedAfter = expectedVersion.map { $0 + 1 } ?? 0
                do {
                    let current = try await withReconnect { try await self.client.getData(path) }
                    if current.data == data && current.version == expectedAfter {
                        return expectedAfter
                    }
                } catch ZooKeeperError.noNode {
                    // Not created: retry the create.
                }
            }
        }
    }

    /// A znode's data decoded, with its version; nil while it does not exist.
    func readVersioned<T>(_ path: String, _ decode: ([UInt8]) throws -> T) async throws -> (T, version: Int32)? {
        do {
            let (data, version) = try await withReconnect { try await self.client.getData(path) }
            return (try decode(data), version)
        } catch ZooKeeperError.noNode {
            return nil
        }
    }

    /// Starts delivering `.chainChanged`: the current configuration now (if there is one), then every write,
    /// including the create.
    public func watchChain() async throws {
        watchingChain = true
        try await serialized(.chain) { try await self.refreshChain() }
    }

    /// Reads the chain with a data watch armed, or, while it does not exist, arms a creation watch.
    func refreshChain() async throws {
        guard let (data, stat) = try await watchedRead(paths.chain) else { return }
        let version = ZnodeVersion(createdZxid: stat.createdZxid, version: stat.version)
        // Re-arming after a reconnection reads the same version again: report changes only.
        guard version != lastChainEmitted else { return }
        lastChainEmitted = version
        do {
            emit(.chainChanged(try ChainConfig.decode(data), version: stat.version))
        } catch {
            logger.error("chain znode holds invalid data; waiting for the next write", metadata: [
                "version": "\(stat.version)", "error": "\(error)",
            ])
        }
    }

    /// A znode's data and stat with a data watch armed, or nil with a creation watch armed while
    /// it does not exist.
    func watchedRead(_ path: String) async throws -> ([UInt8], ZnodeStat)? {
        while true {
            do {
                return try await client.getDataAndStat(path, watch: true)
            } catch ZooKeeperError.noNode {
                if try await client.exists(path, watch: true) == nil { return nil }
                // created between the two calls: read it
            }
        }
    }
}

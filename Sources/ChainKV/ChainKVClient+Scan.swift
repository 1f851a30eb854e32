internal import ChainCore
internal import ChainTransport
internal import ChainWire
internal import NIOCore

/// A key with its value and version, as a scan returns it.
public struct ScanEntry: Equatable, Sendable {
    public var key: String
    public var value: [UInt8]
    public var version: UInt64
}

/// One page of a scan: entries in key order (UTF-8 bytes compared as unsigned), and where the
/// next page starts (`after`), nil when the range is done.
public struct ScanResult: Equatable, Sendable {
    public var entries: [ScanEntry]
    /// Pass as `after` to get the next page; nil: no key of the range is left.
    public var next: String?
}

/// Range and prefix scans. Each chain's part of a page is its committed state at one point in
/// its sequence order (read at its head like a get); a sharded cluster's page merges one part
/// per chain, each read at that chain's own point, so a page is not one snapshot of the whole
/// cluster (like etcd's `Range` across its members would be), but no committed key present
/// through the whole scan is missed or repeated, and no uncommitted value is shown.
extension ChainKVClient {
    /// The most entries one call returns (`WireLimits.scanRowsMax`).
    public static let scanLimitMax = WireLimits.scanRowsMax

    /// Keys that start with `prefix` ("" for every key), after `after`, at most `limit`.
    public func scan(prefix: String, after: String? = nil, limit: Int = 1000) async throws -> ScanResult {
        try checkPrefix(prefix)
        return try await scan(KeyRange(prefix: prefix), after: after, limit: limit)
    }

    /// Keys from `from` (inclusive; nil: the first) to `to` (exclusive; nil: the last), after
    /// `after`, at most `limit`.
    public func scan(from: String? = nil, to: String? = nil, after: String? = nil, limit: Int = 1000) async throws -> ScanResult {
        for bound in [from, to].compactMap({ $0 }) { try check(bound) }
        return try await scan(KeyRange(from: from, to: to), after: after, limit: limit)
    }

    /// Every entry of a prefix (or of `from`..<`to` when `prefix` is nil), page by page.
    public func scanAll(prefix: String? = nil, from: String? = nil, to: String? = nil,
                        pageSize: Int = 1000) -> AsyncThrowingStream<ScanEntry, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var after: String?
                    repeat {
                        let page = prefix != nil
                            ? try await scan(prefix: prefix!, after: after, limit: pageSize)
                            : try await scan(from: from, to: to, after: after, limit: pageSize)
                        for entry in page.entries { continuation.yield(entry) }
                        after = page.next
                    } while after != nil && !Task.isCancelled
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// A prefix is a key's bytes, or none: at most `keySizeMax` bytes, no NUL (empty is allowed).
    func checkPrefix(_ prefix: String) throws {
        guard prefix.utf8.count <= WireLimits.keySizeMax, !prefix.utf8.contains(0) else {
            throw ChainKVError.invalidArgument("bad prefix: over \(WireLimits.keySizeMax) bytes or holds a NUL byte")
        }
    }

    private func scan(_ range: KeyRange, after: String?, limit: Int) async throws -> ScanResult {
        guard (1...Self.scanLimitMax).contains(limit) else {
            throw ChainKVError.invalidArgument("limit \(limit) outside 1...\(Self.scanLimitMax)")
        }
        if let after { try check(after) }
        let resumed = after.map { range.resuming(after: $0) } ?? range
        let page = try await scanPage(resumed, limit: limit)
        // Every `next` a server or the merge makes starts just after a key; one that does not
        // would end the scan early without a word.
        guard page.next == nil || page.resumeAfter != nil else {
            throw ChainKVError.network("a server answered a scan page with a continuation that is not just after a key")
        }
        return ScanResult(entries: page.rows.map { ScanEntry(key: $0.key, value: $0.value.value, version: $0.value.version) },
                          next: page.resumeAfter)
    }

    /// One page from every chain's head, merged; retried (a read) until the budget runs out.
    private func scanPage(_ range: KeyRange, limit: Int) async throws -> RangePage {
        let deadline = NIODeadline.now() + TimeAmount(options.retryBudget)
        var backoff = TimeAmount.milliseconds(5)
        /// Servers that relayed none of this scan's attempts: later attempts try others first.
        var relaysFailed: Set<ServerKey> = []
        while true {
            let lastError: ChainKVError
            do {
                let routes = try await currentRoutes()
                let chains = routes.map.counts.keys.sorted(by: Leader.chainOrder)
                let skipping = relaysFailed
                let pages = try await withThrowingTaskGroup(of: RangePage.self) { group in
                    for chain in chains {
                        group.addTask { try await self.scanChain(chain, routes: routes, range: range, limit: limit, skipping: skipping) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                return RangePage.merge(pages, range: range, limit: limit)
            } catch let failed as RelayFailed {
                relaysFailed.insert(failed.server)
                if failed.error.isUnauthorized { throw failed.error }
                lastError = failed.error
            } catch let notFound as HeadNotFound {
                lastError = notFound.error
            } catch let error as ChainKVError {
                if error.isUnauthorized { throw error }
                if case .server(let code, _) = error, !code.isTransient { throw error }
                lastError = error
            }
            do {
                try await pause(&backoff, until: deadline)
            } catch {
                throw lastError
            }
        }
    }

    /// One chain's page; throws a transient error (after asking for new routes) when the chain
    /// has no reachable head, its head changed, or the slot map moved on.
    /// A relaying server (`server`) brought no page: the next attempt tries another first.
    private struct RelayFailed: Error {
        let server: ServerKey
        let error: ChainKVError
    }

    /// One chain's page; throws a transient error (after asking for new routes) when the chain
    /// has no reachable head, its head changed, or the slot map moved on, and `RelayFailed` when
    /// a server relaying to the head brought no page.
    private func scanChain(_ chain: String, routes: Routes, range: KeyRange, limit: Int, skipping: Set<ServerKey>) async throws -> RangePage {
        // The head, or another server relaying to it while the head does not answer this client
        // (ChainKVClient+Relay).
        let target = try await target(chain: chain, routes: routes, skipping: skipping)
        let scan = Message.scan(chain: chain, mapVersion: routes.map.version, range: range, limit: UInt32(limit))
        let reply: Message
        do {
            reply = try await target.connection.request(target.message(scan, chain: chain), timeout: options.requestTimeout)
        } catch let error as ChainKVError where !error.isUnauthorized {
            noAnswer(from: target, error)
            if target.isRelay { throw RelayFailed(server: target.server, error: error) }
            throw error
        }
        switch reply {
        case .scanPage(let rows, let next):
            return RangePage(rows: rows, next: next)
        case .moved(_, let mapVersion):
            invalidateRoutes()
            throw ChainKVError.network("the slot map changed (the server's is version \(mapVersion)); asking for it again")
        case .error(let code, _) where target.isRelay && (code == .notHead || code == .unavailable || code == .badRequest):
            // The relaying server reached no head, or is older than relays (a bad request).
            refused(by: target)
            throw RelayFailed(server: target.server, error: unexpected(reply))
        case .error(.notHead, _), .error(.unavailable, _):
            refused(by: target)
            throw unexpected(reply)
        default:
            throw unexpected(reply)
        }
    }
}

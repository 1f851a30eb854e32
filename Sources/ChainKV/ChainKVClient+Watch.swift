internal import ChainCore
internal import ChainTransport
internal import ChainWire
internal import NIOConcurrencyHelpers
internal import NIOCore

/// One committed change a watch delivers.
public struct WatchEvent: Equatable, Sendable {
    public var key: String
    /// The new value; nil: the key was deleted.
    public var value: [UInt8]?
    /// The version the change made (as `getVersioned` reports it).
    public var version: UInt64
    /// Where the watch stands just after this change: pass it as `after` to resume here.
    public var cursor: WatchCursor
}

/// Where a watch stands in each chain: the last version of that chain it has seen. Opaque; its
/// text form (`description`, "c0:1234,c3:77") can be stored and parsed back (`init?(_:)`).
public struct WatchCursor: Equatable, Sendable, LosslessStringConvertible {
    var positions: [String: UInt64]

    public init() { positions = [:] }

    public init?(_ description: String) {
        var positions: [String: UInt64] = [:]
        for part in description.split(separator: ",") {
            let pair = part.split(separator: ":")
            guard pair.count == 2, !pair[0].isEmpty, pair[0].utf8.count <= WireLimits.chainIDSizeMax,
                  let version = UInt64(pair[1]) else { return nil }
            positions[String(pair[0])] = version
        }
        self.positions = positions
    }

    public var description: String {
        positions.keys.sorted(by: Leader.chainOrder).map { "\($0):\(positions[$0]!)" }.joined(separator: ",")
    }
}

/// The changes of a watch, as an `AsyncSequence`. The client holds at most
/// `ChainKVClient.watchBufferMax` changes the caller has not taken yet (plus one poll's page),
/// and at most `watchHeldMax` held back behind slot moves' barriers (plus one page; `WatchOrder`):
/// a watcher slower than the writes makes the polls wait, not the memory grow.
public struct WatchStream: AsyncSequence, Sendable {
    public typealias Element = WatchEvent
    let stream: AsyncThrowingStream<WatchEvent, Error>
    let buffered: BufferedCount

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<WatchEvent, Error>.AsyncIterator
        let buffered: BufferedCount

        public mutating func next() async throws -> WatchEvent? {
            let event = try await base.next(isolation: #isolation)
            if event != nil { buffered.taken() }
            return event
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), buffered: buffered)
    }
}

/// Changes handed to a watch's stream and not yet taken by its caller.
final class BufferedCount: Sendable {
    private let count = NIOLockedValueBox(0)
    func added(_ n: Int) { count.withLockedValue { $0 += n } }
    func taken() { count.withLockedValue { $0 -= 1 } }
    var value: Int { count.withLockedValue { $0 } }
}

/// A watch asked to resume from a point its chain's history no longer holds.
public struct WatchCompacted: Error, Equatable, CustomStringConvertible {
    public var chain: String
    /// The oldest version the chain can still deliver changes from.
    public var oldest: UInt64
    public var description: String {
        "the changes of chain \(chain) before version \(oldest) are no longer kept; watch again from a newer point"
    }
}

/// Watches, like etcd's `Watch` or ZooKeeper's watches: every committed change of a key, a prefix
/// or a range, in each chain's sequence order, resumable from a cursor after a head change, a
/// reconnect or a restart of the watcher, with no gap and no duplicate while the chain's history
/// holds the point (the last `CoreLimits.recentMax` writes, at most 8 MiB); past it the stream
/// ends with `WatchCompacted`. Each chain is long-polled at its head (`watchWait` at most per
/// poll); changes of different chains interleave, except that across a slot move a key's changes
/// stay in order (`WatchOrder`): the recipient's are handed on after the donor's.
extension ChainKVClient {
    /// How long one poll of a chain waits at the server for a change. Each answer tells the
    /// watcher how far it has seen, also without a change; a new head that joined the chain
    /// recently has no history before it joined, so a watcher should not fall far behind.
    public static let watchWait: Duration = .seconds(5)
    /// Rounds (of about a second) between a watch's fresh looks at the slot map, for new chains.
    static let watchRoutesRefresh = 5
    /// Changes a watch holds for its caller before its polls wait for the caller to take some.
    public static let watchBufferMax = 10_000
    /// Entries a watch holds back behind slot moves' barriers (`WatchOrder`) before the polls of
    /// the chains they hold stop asking for more (the donors' polls go on, and release them).
    static let watchHeldMax = 10_000

    /// Changes of keys that start with `prefix` ("" for every key). Returns once the watch knows
    /// where "now" is in every chain: every change committed after it returns is delivered.
    public func watch(prefix: String, after: WatchCursor? = nil) async throws -> WatchStream {
        try checkPrefix(prefix)
        return try await watch(KeyRange(prefix: prefix), after: after)
    }

    /// Changes of one key.
    public func watch(key: String, after: WatchCursor? = nil) async throws -> WatchStream {
        try check(key)
        return try await watch(KeyRange(lower: Array(key.utf8), upper: Array(key.utf8) + [0]), after: after)
    }

    /// Changes of keys from `from` (inclusive; nil: the first) to `to` (exclusive; nil: the last).
    public func watch(from: String?, to: String?, after: WatchCursor? = nil) async throws -> WatchStream {
        for bound in [from, to].compactMap({ $0 }) { try check(bound) }
        return try await watch(KeyRange(from: from, to: to), after: after)
    }

    /// Establishes the starting point (a fresh watch: "now" in every chain; a cursor: "now" in no
    /// chain, since a chain it does not name appeared after it and is read from its beginning),
    /// retrying until the budget runs out, then starts the polls.
    private func watch(_ range: KeyRange, after: WatchCursor?) async throws -> WatchStream {
        let state = NIOLockedValueBox(WatchOrder(cursor: after ?? WatchCursor(), range: range))
        if after == nil {
            let deadline = NIODeadline.now() + TimeAmount(options.retryBudget)
            var backoff = TimeAmount.milliseconds(5)
            while true {
                do {
                    let routes = try await currentRoutes()
                    if await establish(Array(routes.map.counts.keys), routes: routes, state: state) { break }
                } catch let error as ChainKVError where error.isUnauthorized {
                    throw error
                } catch {}
                do {
                    try await pause(&backoff, until: deadline)
                } catch {
                    throw ChainKVError.network("no head of every chain answered the watch in time")
                }
            }
        }
        return stream(range, state: state, resumed: after != nil)
    }

    /// `resumed`: the watch started from a cursor, which may have been moved past a compaction;
    /// each chain it names is first asked for the slot move barriers it keeps (`WatchOrder.resumed`).
    private func stream(_ range: KeyRange, state: NIOLockedValueBox<WatchOrder>, resumed: Bool) -> WatchStream {
        let buffered = BufferedCount()
        let stream = AsyncThrowingStream<WatchEvent, Error> { continuation in
            let task = Task {
                await withTaskGroup(of: Void.self) { group in
                    var polled = Set<String>()
                    var rounds = 0
                    // Every chain of the map gets a poller (a key's slot may move to another
                    // chain); a chain that appears later (growth) gets one when it is seen, from
                    // the oldest change it keeps: it did not exist when the watch started. Polls
                    // carry no map version, so nothing else would tell this client of a new
                    // chain: every `routesRefresh` rounds it asks the servers again.
                    while !Task.isCancelled {
                        if self.isClosed {
                            continuation.finish(throwing: ChainKVError.network("client is shut down"))
                            break
                        }
                        rounds += 1
                        if rounds % Self.watchRoutesRefresh == 0 { invalidateRoutes() }
                        if let routes = try? await currentRoutes() {
                            let chains = routes.map.counts.keys.filter { !polled.contains($0) }
                            let late = state.withLockedValue { order in
                                // Sharded only: a donor that left the map releases its barriers.
                                if routes.map.version > 0 { Self.hand(order.present(Set(routes.map.counts.keys)), buffered, continuation) }
                                return Set(chains.filter { order.start($0, at: 0, late: true) })
                            }
                            // An unsharded cluster's map has version 0; its versions are plain seqs.
                            let sharded = routes.map.version > 0
                            for chain in chains {
                                polled.insert(chain)
                                let versions = PublicVersions(chain: sharded ? chain : nil)
                                group.addTask {
                                    await self.poll(chain, range: range, state: state, fromOldest: late.contains(chain) ? versions : nil,
                                                    barriersFirst: resumed && sharded && !late.contains(chain),
                                                    buffered: buffered, continuation: continuation)
                                }
                            }
                        }
                        try? await Task.sleep(for: .seconds(1))
                    }
                    group.cancelAll()
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return WatchStream(stream: stream, buffered: buffered)
    }

    /// Asks each chain the cursor has no position for where it stands now (a watch that does
    /// not wait); false unless every one answered.
    private func establish(_ chains: [String], routes: Routes, state: NIOLockedValueBox<WatchOrder>) async -> Bool {
        let missing = state.withLockedValue { order in chains.filter { order.cursor.positions[$0] == nil } }
        return await withTaskGroup(of: (String, UInt64, [Change])?.self) { group in
            for chain in missing {
                group.addTask {
                    // The head, or another server relaying to it (ChainKVClient+Relay).
                    let now = Message.watch(chain: chain, range: KeyRange(), after: nil, limit: 1, waitMs: 0)
                    guard let target = try? await self.target(chain: chain, routes: routes),
                          case .changes(let barriers, let through)? = try? await target.connection.request(
                              target.message(now, chain: chain), timeout: TimeAmount(self.options.requestTimeout)) else { return nil }
                    return (chain, through, barriers)
                }
            }
            var answers: [String: (through: UInt64, barriers: [Change])] = [:]
            for await answer in group {
                guard let (chain, through, barriers) = answer else { continue }
                answers[chain] = (through, barriers)
            }
            guard answers.count == missing.count else {
                invalidateRoutes()
                return false
            }
            // All at once: a chain's start depends on its donors' (a move ending just now).
            let starts = WatchOrder.startPoints(answers)
            state.withLockedValue { order in for (chain, at) in starts { _ = order.start(chain, at: at) } }
            return true
        }
    }

    /// Long-polls chain `chain` until cancelled or its history no longer holds the cursor.
    /// `fromOldest` (the chain's versions): a chain that appeared during the watch, read from the
    /// oldest change it still keeps rather than failing when its beginning is gone, until its
    /// first answer (`WatchOrder.readsFromOldest`).
    /// `barriersFirst`: before its first poll, the chain is asked for the barriers it keeps
    /// (a watch resumed from a cursor: `WatchOrder.resumed`).
    private func poll(_ chain: String, range: KeyRange, state: NIOLockedValueBox<WatchOrder>, fromOldest: PublicVersions?, barriersFirst: Bool,
                      buffered: BufferedCount, continuation: AsyncThrowingStream<WatchEvent, Error>.Continuation) async {
        var barriersNeeded = barriersFirst
        var backoff = TimeAmount.milliseconds(5)
        /// Servers that relayed none of this chain's polls: later polls try others first.
        var relaysFailed: Set<ServerKey> = []
        let wait = TimeAmount(Self.watchWait)
        while !Task.isCancelled {
            if isClosed {
                continuation.finish(throwing: ChainKVError.network("client is shut down"))
                return
            }
            // The caller is behind, or this chain's changes wait behind a move's barrier and
            // enough are held: ask for more only once some are taken, or released.
            while buffered.value >= Self.watchBufferMax || state.withLockedValue({ $0.holds(chain) && $0.heldCount >= Self.watchHeldMax }),
                  !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(10))
            }
            do {
                let routes = try await currentRoutes()
                // The head, or another server relaying to it while the head does not answer this
                // client (ChainKVClient+Relay).
                let target = try await target(chain: chain, routes: routes, skipping: relaysFailed)
                let after = state.withLockedValue { $0.resumePoint(chain) }
                // "Now" without waiting answers with the barriers the chain keeps.
                let request = barriersNeeded ? Message.watch(chain: chain, range: KeyRange(), after: nil, limit: 1, waitMs: 0)
                    : Message.watch(chain: chain, range: range, after: after, limit: 1000, waitMs: UInt32(wait.nanoseconds / 1_000_000))
                let reply: Message
                do {
                    reply = try await target.connection.request(target.message(request, chain: chain),
                                                                timeout: wait + TimeAmount(options.requestTimeout))
                } catch let error as ChainKVError where !error.isUnauthorized {
                    noAnswer(from: target, error)
                    if target.isRelay { relaysFailed.insert(target.server) }
                    throw error
                }
                switch reply {
                case .changes(let barriers, _) where barriersNeeded:
                    state.withLockedValue { $0.resumed(chain, barriers: barriers) }
                    barriersNeeded = false
                    continue
                case .changes(let events, let through):
                    // Under the lock: each event's cursor holds every chain's position at the
                    // moment it is handed on, so resuming from it skips nothing handed on before.
                    state.withLockedValue { order in Self.hand(order.received(chain, events, through: through), buffered, continuation) }
                    backoff = .milliseconds(5)
                    continue
                case .compacted(let oldest):
                    if let versions = fromOldest, let seq = versions.seq(ofVersion: oldest), seq > 0,
                       state.withLockedValue({ $0.readsFromOldest(chain) }) {
                        state.withLockedValue { order in
                            Self.hand(order.received(chain, [], through: versions.version(ofSeq: seq - 1)), buffered, continuation)
                        }
                        continue
                    }
                    continuation.finish(throwing: WatchCompacted(chain: chain, oldest: oldest))
                    return
                case .error(.notHead, _), .error(.unavailable, _):
                    if target.isRelay { relaysFailed.insert(target.server) }
                    refused(by: target)
                case .error(.badRequest, _) where target.isRelay:
                    relaysFailed.insert(target.server)  // a server older than relays
                case .error(.overloaded, _):
                    break
                default:
                    continuation.finish(throwing: unexpected(reply))
                    return
                }
            } catch let error as ChainKVError where error.isUnauthorized {
                continuation.finish(throwing: error)
                return
            } catch {
                invalidateRoutes()
            }
            try? await Task.sleep(nanoseconds: UInt64(backoff.nanoseconds))
            backoff = min(backoff * 2, .milliseconds(500))
        }
    }

    /// Hands `events` to the caller's stream (under the watch's lock, so in `WatchOrder`'s order).
    private static func hand(_ events: [WatchEvent], _ buffered: BufferedCount, _ continuation: AsyncThrowingStream<WatchEvent, Error>.Continuation) {
        buffered.added(events.count)
        for event in events { continuation.yield(event) }
    }
}

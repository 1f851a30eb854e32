import ChainCore
import ChainStorage
import ChainTransport
import ChainWire
import Logging
import NIOCore

/// The shell around the `Replica` core: the put and get path. It turns client requests, peer
/// messages, link changes and disk completions into core events and carries out the actions the
/// core returns, in order (ReplicaShell+Actions). It owns the core, local storage (through
/// `ReplicaStorage`), the successor link and the inbound peer links, and the client writes in
/// flight; replies go out through the shared `Outbox`. Confined to the server's loop.
final class ReplicaShell: SuccessorLinkDelegate, @unchecked Sendable {
    private(set) var core: Replica
    /// The chain's id in a sharded cluster (its hello names it); nil for the single chain.
    let chain: String?
    /// How this chain's sequence numbers are shown to clients as versions.
    let versions: PublicVersions
    /// The successor the last "link to successor up" line named.
    private var linkedSuccessor: NodeID?
    let context: ShellContext
    let storage: ReplicaStorage
    /// Opens the link to a new successor (`SuccessorLink` on a server).
    let connectSuccessor: (NodeID, ReplicaShell) -> SuccessorChannel
    var successor: SuccessorChannel?
    /// Inbound peer links by the node id their hello named.
    var inbound: [NodeID: Channel] = [:]
    var writes = WriteTracker()
    /// Watch requests waiting for a change (`ReplicaShell+Watch`).
    var watches = ParkedWatches()
    /// Set when a new successor is connected: when it has caught up with what this node held at
    /// that moment, the time since is the pause writes saw during the splice.
    var splice: (node: NodeID, since: NIODeadline, target: UInt64)?
    /// The highest epoch stored durably: nothing of a later epoch may be sent (checked in `send`).
    var durableEpoch: UInt64
    /// The chain's database replaced a damaged one and no snapshot has arrived since: the replica
    /// holds none of the chain's writes (`ChainDatabase.needsTransfer`). Cleared by a snapshot.
    var dataLost = false
    let leaseMs: UInt64
    /// Reads refused for a lapsed lease, logged at most once a second.
    private let leaseLapses = LogThrottle()
    /// A group commit that took this long is logged (a warning, at most one per
    /// `slowCommitLogInterval`, with the count since the last). A commit is normally 1 to 10 ms;
    /// every write of the batch, and every write behind it, waits for it, and at a few hundred ms
    /// a head's lease (`leaseMs`, default 300) and the chain's failover are of the same order, so
    /// an operator should see the disk that causes it. (etcd and ZooKeeper warn at 1 s of fsync.)
    static let slowCommit = Duration.milliseconds(100)
    static let slowCommitLogInterval = TimeAmount.seconds(10)
    /// The server cannot go on (its epoch cannot be stored): exit like a crash.
    let fail: () -> Void

    init(id: NodeID, chain: String? = nil, context: ShellContext, storage: ReplicaStorage, lastSeq: UInt64, durableEpoch: UInt64,
         requests: [(RequestID, seq: UInt64)], leaseMs: UInt64,
         connectSuccessor: @escaping (NodeID, ReplicaShell) -> SuccessorChannel, fail: @escaping () -> Void) {
        self.core = Replica(id: id, lastSeq: lastSeq, requests: requests)
        self.chain = chain
        self.versions = PublicVersions(chain: chain)
        self.context = context
        self.storage = storage
        self.durableEpoch = durableEpoch
        self.leaseMs = leaseMs
        self.connectSuccessor = connectSuccessor
        self.fail = fail
        let gate = context.gate
        let metrics = context.metrics
        let logger = context.logger, chainName = metricsChain
        let slowCommits = LogThrottle(interval: Self.slowCommitLogInterval)
        storage.start { [weak self] seq, batch, duration in
            metrics.fsyncBatch.record(batch)
            metrics.fsyncDuration.recordNanoseconds(duration.wholeNanoseconds)
            gate.execute { [weak self] in self?.persisted(through: seq) }
            if duration >= Self.slowCommit, let slow = slowCommits.event() {
                let ms = duration.wholeMilliseconds
                logger.warning("slow group commit: the disk took \(ms) ms to make \(batch) updates durable; writes wait for it", metadata: [
                                   "chain": "\(chainName)", "commitMs": "\(ms)",
                                   "updates": "\(batch)", "slowCommitsSinceLastLine": "\(slow)",
                               ])
            }
        }
    }

    var logger: Logger { context.logger }

    /// The chain's id in metrics labels ("c0" for the single chain).
    var metricsChain: String { chain ?? ClusterLeader.soleChain }

    // MARK: Client requests

    /// A get: answered at once, from committed state (the core decides whether it may).
    /// `versioned`: the reply carries the key's version (`getVersioned`).
    func get(_ key: String, ref: ClientRef, versioned: Bool = false) {
        let started = context.loop.now
        let message: Message
        do {
            let hashed = ByteKey(key)
            let storage = self.storage, context = self.context
            // Storage is read only when the core needs it, and the clock after that (see `read`).
            let reply = try inPlace { try $0.read(hashed, stored: { try storage.value(of: key) }, now: { context.nowMs }) }
            if reply == .error(.noLease), let refused = leaseLapses.event() {
                logger.warning("refusing reads: the lease lapsed (no ZooKeeper confirmation within leaseMs)",
                               metadata: ["leaseMs": "\(leaseMs)", "refused": "\(refused)"])
            }
            message = ReplyMessage.message(for: reply, addresses: context.addresses, versioned: versioned, versions: versions)
        } catch {
            message = storageFailed(error)
        }
        context.outbox.reply(message, to: ref)
        context.metrics.request("get", status: ServerMetrics.status(message), chain: metricsChain)
        context.metrics.latency("get", since: started)
    }

    /// A put (`value` set) or delete (`value` nil), within the connection's write limit.
    /// `versioned`: the reply carries the version (the versioned kinds, the only ones with `ifVersion`).
    /// `move`: a slot move's write (`MoveMark`), not a client's.
    func write(_ key: String, value: [UInt8]?, request: RequestID?, ref: ClientRef, versioned: Bool = false, ifVersion: UInt64? = nil,
               move: MoveMark? = nil) {
        let type = value == nil ? "delete" : "put"
        guard writes.admit(ref, type: type, now: context.loop.now, versioned: versioned) else {
            context.outbox.reply(.error(.overloaded, "too many writes in flight on this connection "
                                        + "(writesInFlightPerConnectionMax \(WriteTracker.perConnectionMax)); retry"), to: ref)
            return
        }
        do {
            let hashed = ByteKey(key)
            let stored = try storedValue(hashed)
            // Another chain's version matches no key here (`PublicVersions`): no sequence number has it.
            let condition = ifVersion.map { versions.seq(ofVersion: $0) ?? UInt64.max }
            perform(core.on(.clientWrite(ref, key: key, value: value, stored: stored, request: request, ifVersion: condition, move: move,
                                         hashed: hashed)))
        } catch {
            _ = writes.finish(ref)
            context.outbox.reply(storageFailed(error), to: ref)
        }
    }

    func connectionClosed(_ connection: UInt64) {
        writes.closed(connection: connection)
        watches.closed(connection: connection)
    }

    func storageFailed(_ error: Error) -> Message {
        if context.diskFaults.failed(error, while: "reading a key") {
            return .error(.unavailable, "this server's disk is full; it is leaving the chain")
        }
        logger.error("storage read failed", metadata: ["error": "\(error)"])
        return .error(.internalError, "storage read failed: \(error)")
    }

    /// The key's value and version in local storage, read only when the core needs it (no write in flight).
    /// `key` is hashed once per write: the core takes the same `ByteKey` in the event.
    private func storedValue(_ key: ByteKey) throws -> VersionedValue? {
        inPlace { $0.needsStoredValue(for: key) } ? try storage.value(of: key.key) : nil
    }

    /// Calls a method of the core that only reads it, on the core in place. `core.method()`
    /// makes Swift copy the whole struct first (a class's stored property may change while the
    /// method runs), retaining and then releasing each of its collections: that copy was 5 % of
    /// a head's CPU under reads (issue 18, cut 20). Through an `inout` access the method borrows
    /// the stored core instead. `body` must not reach the shell (exclusive access to `core`).
    @inline(__always)
    func inPlace<R>(_ body: (inout Replica) throws -> R) rethrows -> R {
        try body(&core)
    }

    // MARK: Peers

    func predecessorHello(from node: NodeID, channel: Channel) {
        if let old = inbound[node], old !== channel {
            // A reconnect replaces the old link; its unacknowledged updates will be resent.
            old.close(promise: nil)
        }
        inbound[node] = channel
        logger.debug("inbound peer link up", metadata: ["peer": "\(node)"])
        perform(core.on(.predecessorLink(node, up: true)))
        flush()
    }

    func predecessorClosed(_ node: NodeID, channel: Channel) {
        guard inbound[node] === channel else { return }
        inbound[node] = nil
        perform(core.on(.predecessorLink(node, up: false)))
        flush()
    }

    func forwarded(from node: NodeID, epoch: UInt64, _ update: Update) {
        do {
            let hashed = ByteKey(update.key)
            perform(core.on(.forward(from: node, epoch: epoch, update, stored: try storedValue(hashed), hashed: hashed)))
        } catch {
            context.diskFaults.failed(error, while: "reading a key for a forwarded update")
            logger.error("storage read failed; dropping the link to resync", metadata: ["error": "\(error)"])
            inbound[node]?.close(promise: nil)
        }
    }

    func successorMessage(from node: NodeID, _ message: Message) {
        switch message {
        case .ack(let epoch, let seq):
            perform(core.on(.ack(from: node, epoch: epoch, seq: seq)))
            if let s = splice, s.node == node, core.successorAcked >= s.target {
                let elapsed = context.loop.now - s.since
                context.metrics.putPause.recordNanoseconds(elapsed.nanoseconds)
                let ms = elapsed.nanoseconds / 1_000_000
                logger.notice("successor caught up: put pause during splice \(ms) ms", metadata: [
                    "successor": "\(node)", "epoch": "\(core.view.epoch)", "putPauseMs": "\(ms)", "seq": "\(s.target)",
                ])
                splice = nil
            }
        case .error(let code, let text):
            logger.warning("successor refused", metadata: ["peer": "\(node)", "code": "\(code)", "reason": "\(text)"])
        default:
            break
        }
        // Flushed at the end of the read batch: a burst of acks answers many clients at once.
    }

    func successorLinkUp(_ node: NodeID) {
        // A new epoch that keeps the successor reconnects the link: only a new successor is news.
        if node != linkedSuccessor {
            logger.info("link to successor up", metadata: ["successor": "\(node)"])
            linkedSuccessor = node
        } else {
            logger.debug("link to successor up again", metadata: ["successor": "\(node)"])
        }
        perform(core.on(.successorLinkUp(node)))
        flush()
    }

    func hello() -> Message {
        checkDurable(core.view.epoch, "hello")
        let hello = Message.hello(node: core.id, epoch: core.view.epoch)
        return chain.map { .onChain(chain: $0, hello) } ?? hello
    }

    // MARK: Configuration, storage, time

    func viewChanged(_ view: ChainView) {
        perform(core.on(.viewChanged(view)))
        flush()
    }

    /// Storage committed every update up to `seq`.
    func persisted(through seq: UInt64) {
        // The core now counts this batch durable, so the next read must see it.
        storage.endReadBatch()
        perform(core.on(.persisted(through: seq)))
        flush()
    }

    func renewLease(until: UInt64) {
        perform(core.on(.lease(until: until)))
        flush()
    }

    func revokeLease() {
        perform(core.on(.leaseRevoked))
    }

    /// Every second: re-sends this node's ack to its predecessor.
    func refresh() {
        perform(core.on(.refresh))
        flush()
    }

    /// Before a snapshot's rows: storage is emptied at `lastSeq`, and the core stops answering
    /// stored values from its history of the storage that is gone (`Replica.storageReplaced`).
    func resetStorage(lastSeq: UInt64) throws {
        try storage.reset(lastSeq: lastSeq)
        core.storageReplaced()
    }

    /// A snapshot of this chain is about to be sent from here: the core keeps the updates its
    /// joiner will need to catch up (`Replica.pinHistory`). Returns the pin, for `unpinHistory`.
    func pinHistory() -> UInt64 { core.pinHistory() }

    func unpinHistory(_ pin: UInt64) { core.unpinHistory(pin) }

    /// After a snapshot: the core restarts from what storage now holds, in the same view.
    func restart(lastSeq: UInt64, requests: [(RequestID, seq: UInt64)]) {
        dataLost = false
        core = Replica(id: core.id, lastSeq: lastSeq, view: core.view, requests: requests)
        // The new core must know which inbound links are up, or it would never send the
        // position ack a predecessor connected earlier is waiting for.
        for node in inbound.keys { perform(core.on(.predecessorLink(node, up: true))) }
    }

    /// Hands queued updates to storage, then flushes every channel written during this event.
    func flush() {
        storage.submitQueued()
        context.outbox.flush()
    }

    func close() {
        releaseWatches()
        successor?.close()
        successor = nil
        // Updates queued this turn reach the committer, which commits them before it stops.
        storage.submitQueued()
    }
}

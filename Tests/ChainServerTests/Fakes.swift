import ChainCoordination
import ChainCore
import ChainStorage
import ChainWire
import Logging
import NIOCore
import NIOEmbedded
@testable import ChainServer

/// In-memory storage for the replica shell: updates queue, are handed over on `submitQueued`,
/// and become durable (and reported) only when the test calls `commit()`, like an fsync.
final class FakeStorage: ReplicaStorage, @unchecked Sendable {
    var values: [String: [UInt8]] = [:]
    /// Each key's version: the seq that last set it (the snapshot's point for rows without one).
    var versions: [String: UInt64] = [:]
    var outcomes: [UInt64: WriteOutcome] = [:]
    var queued: [StoredUpdate] = []
    var submitted: [StoredUpdate] = []
    var lastSeq: UInt64 = 0
    /// Everything that changed durable state, in order ("epoch 2", "reset 40", ...).
    var log: [String] = []
    var failEpochWrites = false
    private var onDurable: (@Sendable (UInt64, Int, Duration) -> Void)?

    func start(onDurable: @escaping @Sendable (UInt64, Int, Duration) -> Void) { self.onDurable = onDurable }
    func value(of key: String) throws -> VersionedValue? {
        values[key].map { VersionedValue($0, version: versions[key] ?? lastSeq) }
    }
    func rows(in range: KeyRange, limit: Int, byteLimit: Int) throws -> (rows: [RangeRow], complete: Bool) {
        let keys = values.keys.filter { range.contains($0) }.sorted { KeyRange.less($0, $1) }
        let rows = try keys.prefix(limit).map { RangeRow(key: $0, value: try value(of: $0)!) }
        return (rows, keys.count <= limit)
    }
    func outcome(seq: UInt64) throws -> WriteOutcome? { outcomes[seq] }
    func persist(_ update: StoredUpdate) { queued.append(update) }
    func submitQueued() {
        submitted += queued
        queued = []
    }
    func endReadBatch() {}
    func recordEpoch(_ epoch: UInt64) throws {
        if failEpochWrites { throw FakeDiskError() }
        log.append("epoch \(epoch)")
    }
    func reset(lastSeq: UInt64) throws {
        values = [:]
        versions = [:]
        outcomes = [:]
        self.lastSeq = lastSeq
        log.append("reset \(lastSeq)")
    }
    func load(rows: [Row]) throws {
        for row in rows {
            values[row.key] = row.value
            versions[row.key] = row.version ?? lastSeq
        }
    }
    func load(outcomes: [WriteOutcome]) throws { for o in outcomes { self.outcomes[o.seq] = o } }
    func requests() throws -> [(RequestID, seq: UInt64)] { outcomes.values.sorted { $0.seq < $1.seq }.map { ($0.request, $0.seq) } }
    func stop() {}

    /// Makes every submitted update durable and reports it, as a group commit does.
    func commit() {
        guard let last = submitted.last else { return }
        for u in submitted where u.update.changesKey {
            values[u.key] = u.value
            versions[u.key] = u.value == nil ? nil : u.seq
        }
        for u in submitted {
            if let o = u.outcome { outcomes[o.seq] = o }
        }
        lastSeq = last.seq
        let n = submitted.count
        submitted = []
        onDurable?(last.seq, n, .zero)
    }
}

struct FakeDiskError: Error {}

/// A successor link that records what the shell sends on it.
final class FakeSuccessor: SuccessorChannel {
    let node: NodeID
    var sent: [Message] = []
    var closed = false

    init(node: NodeID) { self.node = node }
    func send(_ message: Message) { sent.append(message) }
    func close() { closed = true }

    var forwardedSeqs: [UInt64] {
        sent.compactMap { if case .forward(_, let u) = $0 { return u.seq } else { return nil } }
    }
}

/// ZooKeeper for the leader shell: chain writes and fences complete when the test says.
final class FakeCoordination: LeaderCoordination, @unchecked Sendable {
    var writes: [(config: ChainConfig, expectedVersion: Int32?, promise: EventLoopPromise<ChainWriteResult>)] = []
    var chainIDs: [String] = []
    var slotWrites: [(map: SlotMap, expectedVersion: Int32?, promise: EventLoopPromise<SlotsWriteResult>)] = []
    var fences: [(member: NodeID, promise: EventLoopPromise<Bool>)] = []
    var evicted: [ElectionPeer] = []

    func writeChain(_ chain: String, _ config: ChainConfig, expectedVersion: Int32?, on loop: EventLoop) -> EventLoopFuture<ChainWriteResult> {
        let promise = loop.makePromise(of: ChainWriteResult.self)
        writes.append((config, expectedVersion, promise))
        chainIDs.append(chain)
        return promise.futureResult
    }

    func writeSlots(_ map: SlotMap, expectedVersion: Int32?, on loop: EventLoop) -> EventLoopFuture<SlotsWriteResult> {
        let promise = loop.makePromise(of: SlotsWriteResult.self)
        slotWrites.append((map, expectedVersion, promise))
        return promise.futureResult
    }

    func fence(member: NodeID, incarnation: String?, on loop: EventLoop) -> EventLoopFuture<Bool> {
        let promise = loop.makePromise(of: Bool.self)
        fences.append((member, promise))
        return promise.futureResult
    }

    func evict(_ candidate: ElectionPeer, onlyIfLeading: Bool, on loop: EventLoop) -> EventLoopFuture<Bool> {
        evicted.append(candidate)
        return loop.makeSucceededFuture(true)
    }

    var decommissioned: Set<NodeID> = []
    func decommission(_ server: NodeID, cancel: Bool, on loop: EventLoop) -> EventLoopFuture<Set<NodeID>> {
        if cancel { decommissioned.remove(server) } else { decommissioned.insert(server) }
        return loop.makeSucceededFuture(decommissioned)
    }
}

/// The leader's member links: the test reports heartbeats through `report`, and answers
/// control requests through the promises.
final class FakeMemberLinks: MemberLinks {
    let report: (ClusterLeaderEvent) -> Void
    let loop: EventLoop
    var members: [NodeID: NodeAddress] = [:]
    var suspected: [NodeID] = []
    var requests: [(message: Message, member: NodeID, promise: EventLoopPromise<Message>)] = []
    var closed = false

    init(loop: EventLoop, report: @escaping (ClusterLeaderEvent) -> Void) {
        self.loop = loop
        self.report = report
    }

    func update(members: [NodeID: NodeAddress]) { self.members = members }
    func suspect(_ id: NodeID) { suspected.append(id) }
    func request(_ message: Message, to member: NodeID, timeout: TimeAmount) -> EventLoopFuture<Message> {
        let promise = loop.makePromise(of: Message.self)
        requests.append((message, member, promise))
        return promise.futureResult
    }
    func close() { closed = true }

    /// Every member answered a heartbeat.
    func heardFromAll() {
        for id in members.keys.sorted() { report(.progress(id, [ClusterLeader.soleChain: .init(epoch: 0, received: 0, durable: 0)])) }
    }
}

enum Shells {
    static func context(_ loop: EmbeddedEventLoop, id: NodeID = "a") -> ShellContext {
        ShellContext(loop: loop, outbox: Outbox(), addresses: AddressBook(own: NodeAddress(id: id, host: "127.0.0.1", port: 7001)),
                     metrics: ServerMetrics(), logger: Logger(label: "test"))
    }

    /// A connected client channel registered with the outbox; replies are read with `readOutbound`.
    static func client(_ context: ShellContext, _ loop: EmbeddedEventLoop) throws -> (EmbeddedChannel, UInt64) {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, context.outbox.opened(channel))
    }

    /// A member whose run is its own (distinct pid): runs made in the same millisecond by one
    /// process would otherwise be the same run.
    static func member(_ id: NodeID, port: Int) -> MemberInfo {
        MemberInfo(id: id, host: "127.0.0.1", port: port, startedAt: "2026-12-04T00:00:00.000Z", pid: Int32(port))
    }
}

extension EmbeddedChannel {
    /// The frames written and flushed to this channel so far.
    func frames() throws -> [Frame] {
        var result: [Frame] = []
        while let frame = try readOutbound(as: Frame.self) { result.append(frame) }
        return result
    }
}

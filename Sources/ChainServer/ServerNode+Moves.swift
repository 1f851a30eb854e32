import ChainCore
import ChainWire
import NIOCore

/// Slot moves between chains, on the servers' side (the leader's: `ClusterLeader+Growth`):
/// - the donor's head copies the moving slots' keys into the recipient (`moveSlots`,
///   SlotCopier), which takes them as writes of its chain (`importWrite`, marked as copies),
///   after a barrier that tells watchers where the donor's changes of them end (`moveIn`);
/// - a chain's head deletes its rows of slots it does not own (`purgeSlots`, SlotPurge): the
///   recipient's before an import, the donor's after the move.
/// Every request is checked against this server's slot map, never taken on trust: a copy only
/// of the move the map records, imports only into the chain the map moves them to, purges only
/// of slots the chain does not own.
extension ServerNode {
    /// How long a move waits for this server to read the map that records it, and for writes of
    /// the moving slots sequenced before it to commit.
    static let moveWait = TimeAmount.seconds(5)

    /// One look, on the loop, at whether a slot move's step may start (`pollUntilReady`).
    enum MoveReadiness<Value: Sendable>: Sendable {
        case ready(Value)
        /// Not yet; the reason is the error if the deadline passes first.
        case wait(String)
        /// Never: fails at once.
        case refused(String)
    }

    /// Looks at `check` on the loop every `interval` until it is ready, refused, or `deadline`
    /// passes. The moves' steps wait off the loop (SlotCopier, SlotPurge): what they wait for,
    /// this server reading a map or a configuration and writes committing, happens on it.
    func pollUntilReady<Value: Sendable>(until deadline: NIODeadline, every interval: TimeAmount,
                                         _ check: @escaping @Sendable () -> MoveReadiness<Value>) async throws -> Value {
        while true {
            switch try await loop.submit(check).get() {
            case .ready(let value): return value
            case .refused(let reason): throw TransferError(reason)
            case .wait(let reason):
                guard NIODeadline.now() < deadline else { throw TransferError(reason) }
                try await Task.sleep(nanoseconds: UInt64(interval.nanoseconds))
            }
        }
    }

    /// `onChain(chain, message)` for the slot move messages and imported writes; false for others.
    func moveRequest(_ chain: String, _ message: Message, ref: ClientRef) -> Bool {
        switch message {
        case .put(let key, let value, let request): importWrite(chain, key: key, value: value, request: request, ref: ref)
        case .delete(let key, let request): importWrite(chain, key: key, value: nil, request: request, ref: ref)
        case .purgeSlots(let ranges, let mapVersion): purgeSlots(chain, Set(SlotMove.slots(of: ranges)), mapVersion: mapVersion, ref: ref)
        case .moveIn(let ranges, let from, let after, let mapVersion):
            moveIn(chain, MoveBarrier(slots: ranges, from: from, after: after), mapVersion: mapVersion, ref: ref)
        case .moveSlots(let ranges, let to, let target, let mapVersion):
            guard let move = SlotMove(slots: SlotMove.slots(of: ranges), from: chain, to: to) else {
                reply(.error(.badRequest, "a move needs slots and two different chains"), to: ref)
                return true
            }
            copySlots(move, target: target, mapVersion: mapVersion, ref: ref)
        default: return false
        }
        return true
    }

    /// A write of a key whose slot moves into `chain`, from the donor's head.
    private func importWrite(_ chain: String, key: String, value: [UInt8]?, request: RequestID?, ref: ClientRef) {
        let slot = SlotMap.slot(of: key)
        guard let move = slots?.moving, move.to == chain, move.contains(slot), let hosted = chains[chain] else {
            return reply(.error(.unavailable, "slot \(slot) is not moving into chain \(chain) in this server's map "
                                + "(version \(slots?.version ?? 0))"), to: ref)
        }
        hosted.shell.write(key, value: value, request: request, ref: ref, move: .copy)
    }

    /// The barrier of a move into `chain` (`MoveBarrier`), from the donor's head before its first
    /// copied row: only for the move this server's map `mapVersion` records.
    private func moveIn(_ chain: String, _ barrier: MoveBarrier, mapVersion: UInt64, ref: ClientRef) {
        guard let map = slots, map.version == mapVersion, let move = map.moving, move.to == chain, move.from == barrier.from,
              move.ranges == barrier.slots, let hosted = chains[chain] else {
            return reply(.error(.unavailable, "map version \(mapVersion) moving these slots from chain \(barrier.from) into chain "
                                + "\(chain) is not this server's (version \(slots?.version ?? 0))"), to: ref)
        }
        hosted.shell.write("", value: nil, request: nil, ref: ref, move: .barrier(barrier))
    }

    /// Whether chain `chain` may drop its rows of `wanted` under the current map: it imports them
    /// in exactly map `mapVersion`, or owns none of them and imports none of them.
    func mayPurge(_ chain: String, _ wanted: Set<Int>, mapVersion: UInt64) -> Bool {
        guard let map = slots, map.version >= mapVersion else { return false }
        if let move = map.moving, move.to == chain {
            return map.version == mapVersion && wanted.allSatisfy(move.contains)
        }
        return wanted.allSatisfy { map.owners[$0] != chain }
    }

    private func purgeSlots(_ chain: String, _ wanted: Set<Int>, mapVersion: UInt64, ref: ClientRef) {
        let path = ChainDatabase.path(dataDir: config.dataDir, chain: chain)
        let purge = SlotPurge(node: self, chain: chain, path: path, wanted: wanted, mapVersion: mapVersion, logger: logger)
        Task {
            let answer = await purge.run()
            self.gate.execute {
                self.reply(answer, to: ref)
                self.flush()
            }
        }
    }

    private func copySlots(_ move: SlotMove, target: NodeAddress, mapVersion: UInt64, ref: ClientRef) {
        guard let hosted = chains[move.from] else { return reply(.error(.refused, "this server has no chain \(move.from)"), to: ref) }
        let copier = SlotCopier(node: self, move: move, target: target, mapVersion: mapVersion, path: hosted.database.path,
                                logger: hosted.shell.logger)
        Task {
            let answer = await copier.run()
            self.gate.execute {
                self.reply(answer, to: ref)
                self.flush()
            }
        }
    }

    /// Deletes `keys` of chain `chain` as writes of its head (through the chain, like a client's,
    /// marked as a purge's so that watchers are not told of them); fails unless this server is the head and `allowed` still holds when they are issued.
    func deleteKeys(_ chain: String, _ keys: [String], allowed: @escaping () -> Bool) -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        guard allowed(), let hosted = chains[chain], hosted.shell.core.role.isHead else {
            return loop.makeFailedFuture(TransferError("chain \(chain) may no longer drop these slots here"))
        }
        guard !keys.isEmpty else { return loop.makeSucceededVoidFuture() }
        precondition(keys.count <= WriteTracker.perConnectionMax, "one batch of deletes fits one connection's limit")
        let batch = DeleteBatch(promise: loop.makePromise(of: Void.self), count: keys.count, outbox: context.outbox, shell: hosted.shell)
        let connection = context.outbox.openedInternal { message, _ in batch.answered(message) }
        batch.connection = connection
        for (index, key) in keys.enumerated() {
            hosted.shell.write(key, value: nil, request: nil, ref: ClientRef(connection: connection, request: UInt64(index)), move: .purge)
        }
        hosted.shell.flush()
        // A delete the chain never answers (its head lost the role mid-way) must not hold the purge.
        loop.scheduleTask(in: Self.moveWait * 6) { batch.answered(nil) }
        return batch.promise.futureResult
    }
}

/// The deletes of one page of a purge, answered on an internal connection. Confined to the loop.
private final class DeleteBatch: @unchecked Sendable {
    let promise: EventLoopPromise<Void>
    var remaining: Int
    var failure: Message?
    let outbox: Outbox
    let shell: ReplicaShell
    var connection: UInt64 = 0

    init(promise: EventLoopPromise<Void>, count: Int, outbox: Outbox, shell: ReplicaShell) {
        self.promise = promise
        self.remaining = count
        self.outbox = outbox
        self.shell = shell
    }

    /// One delete's reply, or nil when the wait is over: every delete not answered yet failed.
    func answered(_ message: Message?) {
        guard remaining > 0 else { return }
        if case .deleteResult = message {} else { failure = failure ?? message ?? .error(.unavailable, "no answer in time") }
        remaining = message == nil ? 0 : remaining - 1
        guard remaining == 0 else { return }
        outbox.closed(connection)
        shell.connectionClosed(connection)
        if let failure { promise.fail(TransferError("a delete was refused: \(failure)")) } else { promise.succeed(()) }
    }
}

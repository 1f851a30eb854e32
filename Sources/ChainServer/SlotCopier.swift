import ChainCore
import ChainStorage
import ChainTransport
import ChainWire
import Logging
import NIOCore

/// The donor side of a slot move: writes every key of the moving slots through the recipient
/// chain's head, which takes them as writes of its chain (`onChain(to, put)`, marked as copies:
/// `MoveMark.copy`), committed on every recipient replica before the copy reports done. First
/// it writes the move's barrier there (`moveIn`, `MoveBarrier`): the donor's committed version
/// once checks 1 and 2 hold, at or after every change of the slots the donor ever made, so
/// that a watcher delivers the recipient's later changes of them only after the donor's.
///
/// The copy is complete only if nothing of those slots changes at the donor during or after it.
/// Three checks before any row is read make it so:
/// 1. this server has read the map that records the move (it refuses the slots from then on);
/// 2. no write of those slots is still in flight here (all committed, so on this disk);
/// 3. ZooKeeper, synced, still names this server head of the donor chain in the epoch it acts
///    in: then no other server headed it since before the map was written, and any later head
///    reads that map before the configuration that makes it head, so it refuses them too.
struct SlotCopier: Sendable {
    let node: ServerNode
    let move: SlotMove
    let target: NodeAddress
    let mapVersion: UInt64
    let path: String
    let logger: Logger

    static let requestTimeout = TimeAmount.seconds(10)

    func run() async -> Message {
        let started = NIODeadline.now()
        do {
            let (epoch, coordination, after) = try await ready(until: started + ServerNode.moveWait)
            guard let coordination, await coordination.confirmsHead(of: move.from, node: node.config.id, epoch: epoch) else {
                throw TransferError("ZooKeeper does not confirm this server as head of chain \(move.from) in epoch \(epoch)")
            }
            let copied = try await copy(after: after)
            let ms = (NIODeadline.now() - started).nanoseconds / 1_000_000
            logger.notice("copied \(move.slots.count) slots to chain \(move.to)", metadata: [
                "keys": "\(copied)", "to": "\(target)", "mapVersion": "\(mapVersion)", "ms": "\(ms)"])
            return .ack(epoch: epoch, seq: UInt64(copied))
        } catch {
            logger.warning("slot copy failed", metadata: ["to": "\(move.to)", "mapVersion": "\(mapVersion)", "error": "\(error)"])
            return .error(.unavailable, "slot copy to chain \(move.to) failed: \(error)")
        }
    }

    /// Waits for checks 1 and 2; returns the epoch this server heads the donor chain in, and the
    /// donor's committed version then (every write of the slots is at or before it).
    private func ready(until deadline: NIODeadline) async throws -> (UInt64, CoordinationDriver?, UInt64) {
        let (node, move, mapVersion) = (self.node, self.move, self.mapVersion)
        return try await node.pollUntilReady(until: deadline, every: .milliseconds(2)) {
            let slow = "the map or the slots' writes in flight took too long"
            guard let map = node.slots, map.version >= mapVersion else { return .wait(slow) }
            guard map.version == mapVersion, map.moving == move else {
                return .refused("map version \(map.version) does not record this move (asked for \(mapVersion))")
            }
            guard let hosted = node.chains[move.from], hosted.shell.core.role.isHead else {
                return .refused("not the head of chain \(move.from)")
            }
            let core = hosted.shell.core
            if core.hasPendingWrite(matching: { move.contains(SlotMap.slot(of: $0)) }) { return .wait(slow) }
            return .ready((core.view.epoch, node.coordination, hosted.shell.versions.version(ofSeq: core.stable)))
        }
    }

    private func copy(after: UInt64) async throws -> Int {
        let connection = try await Connection.connect(host: target.host, port: target.port, group: node.group, timeout: .seconds(2),
                                                      security: node.security.outbound)
        defer { connection.close() }
        let (move, to) = (self.move, self.move.to)
        let barrier = try await connection.request(.onChain(chain: to, .moveIn(slots: move.ranges, from: move.from, after: after,
                                                                                mapVersion: mapVersion)),
                                                   timeout: Self.requestTimeout)
        guard case .deleteResult = barrier else { throw TransferError("chain \(to) refused the move's barrier: \(barrier)") }
        return try await SlotRows.forEachPage(path: path, slots: move.slots) { rows in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for row in rows {
                    group.addTask {
                        let reply = try await connection.request(.onChain(chain: to, .put(key: row.key, value: row.value, request: nil)),
                                                                 timeout: Self.requestTimeout)
                        guard case .putResult = reply else { throw TransferError("chain \(to) refused key \(row.key): \(reply)") }
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}

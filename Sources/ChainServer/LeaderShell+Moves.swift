import ChainCore
import ChainWire
import NIOCore

/// The leader's part of a slot move (`ClusterLeader+Growth`): it asks the recipient chain's head
/// to purge the moving slots, then the donor chain's head to copy them (`ServerNode+Moves`), and
/// logs how long the slots were served by no chain.
extension LeaderShell {
    /// Longest a purge or a copy may take before the move is given up (and its slots stay).
    static let copyTimeout = TimeAmount.seconds(120)

    func copySlots(_ move: SlotMove, mapVersion: UInt64) {
        guard let links, let donor = core.chains[move.from]?.chain?.head, let recipient = core.chains[move.to]?.chain?.head,
              let target = context.addresses[recipient] else {
            logger.warning("slot move has no head to ask", metadata: ["from": "\(move.from)", "to": "\(move.to)"])
            return event(.slotsCopyFailed(mapVersion: mapVersion))
        }
        let purge = Message.onChain(chain: move.to, .purgeSlots(slots: move.ranges, mapVersion: mapVersion))
        let copy = Message.onChain(chain: move.from, .moveSlots(slots: move.ranges, to: move.to, target: target, mapVersion: mapVersion))
        links.request(purge, to: recipient, timeout: Self.copyTimeout).flatMap { reply -> EventLoopFuture<Message> in
            guard case .ack = reply, let links = self.links else {
                return self.context.loop.makeFailedFuture(TransferError("the recipient's head \(recipient) refused the purge: \(reply)"))
            }
            return links.request(copy, to: donor, timeout: Self.copyTimeout)
        }.whenComplete { result in
            if case .success(.ack(_, let keys)) = result {
                self.logger.notice("slots copied", metadata: ["from": "\(move.from)", "to": "\(move.to)", "slots": "\(move.slots.count)",
                                                              "keys": "\(keys)", "mapVersion": "\(mapVersion)"])
                self.event(.slotsCopied(mapVersion: mapVersion))
            } else {
                self.logger.warning("slot copy failed; the slots stay with their chain", metadata: [
                    "from": "\(move.from)", "to": "\(move.to)", "mapVersion": "\(mapVersion)", "reply": "\(LogText.answer(result))"])
                self.event(.slotsCopyFailed(mapVersion: mapVersion))
            }
        }
    }

    /// Cleanup at the donor once the recipient owns the slots; rows it leaves are purged before
    /// any later import into the donor, so a failure here is only logged.
    func dropSlots(_ move: SlotMove, mapVersion: UInt64) {
        guard let links, let donor = core.chains[move.from]?.chain?.head else { return }
        let purge = Message.onChain(chain: move.from, .purgeSlots(slots: move.ranges, mapVersion: mapVersion))
        links.request(purge, to: donor, timeout: Self.copyTimeout).whenComplete { result in
            if case .success(.ack) = result { return }
            self.logger.warning("the donor kept the rows of moved slots", metadata: ["chain": "\(move.from)", "reply": "\(LogText.answer(result))"])
        }
    }

    /// An operator's `chainkv decommission`: stored in ZooKeeper first (so a later leader knows),
    /// then acted on. Fails unless this server leads a sharded cluster.
    func decommission(_ server: NodeID, cancel: Bool) -> EventLoopFuture<Set<NodeID>> {
        guard isLeading, core.config.sharded, let coordination else {
            return context.loop.makeFailedFuture(TransferError(core.config.sharded ? "this server is not the leader"
                                                                : "a single-chain cluster has no replicas to move"))
        }
        logger.notice("\(cancel ? "cancelling the decommission of" : "decommissioning") \(server)")
        return coordination.decommission(server, cancel: cancel, on: context.loop).map { servers in
            if self.isLeading { self.event(.decommissioned(servers)) }
            return servers
        }
    }

    /// A slot map was written: the start of a move, or its end (logged with the pause).
    func slotsWritten(_ map: SlotMap, issued: NIODeadline) {
        if map.moving != nil {
            moveSince = issued
        } else if let since = moveSince, let ended = core.slots?.moving {
            moveSince = nil
            let ms = (context.loop.now - since).nanoseconds / 1_000_000
            let done = map.owners[ended.slots[0]] == ended.to
            logger.notice("slot move \(done ? "done" : "dropped"): \(ended.slots.count) slots served by no chain for \(ms) ms", metadata: [
                "from": "\(ended.from)", "to": "\(ended.to)", "slots": "\(ended.slots.count)", "pauseMs": "\(ms)",
                "mapVersion": "\(map.version)", "done": "\(done)"])
            context.metrics.slotMovePause.recordNanoseconds(Int64(ms) * 1_000_000)
        }
    }
}

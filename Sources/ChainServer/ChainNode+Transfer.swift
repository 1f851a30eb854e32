import ChainCore
import ChainStorage
import ChainWire
import NIOCore

/// State transfer: the tail streams a snapshot to a joining server when the leader asks.
extension ChainNode {
    /// The leader asks this node (the tail) to send a snapshot to `target`. The reply to the
    /// leader's request is sent when the joiner has acknowledged the whole snapshot.
    ///
    /// Only the current leader may ask, for the current epoch: the sender names itself, and the
    /// name must be the one at the head of the election in ZooKeeper. (Who may connect at all is
    /// the shared secret's business; this keeps one member from directing another's data.)
    func startTransfer(epoch: UInt64, leader: String, to target: NodeAddress, connection: UInt64, requestID: UInt64) {
        guard epoch == replica.view.epoch, replica.role.isTail else {
            write(.error(.refused, "not the tail of epoch \(epoch) (this node: \(replica.role.rawValue) in epoch \(replica.view.epoch))"),
                  requestID: requestID, to: clients[connection])
            return
        }
        let (path, group, logger, loop, id, coordination) = (databasePath, self.group, self.logger, self.loop, config.id, self.coordination)
        let security = self.security.outbound
        Task {
            let current = try? await coordination?.coordinator.leaderID()
            guard current == leader else {
                logger.warning("state transfer refused: not asked by the leader", metadata: ["asker": "\(leader)", "leader": "\(current.flatMap { $0 } ?? "none")"])
                loop.execute {
                    self.write(.error(.refused, "\(leader) is not the leader (the leader is \(current.flatMap { $0 } ?? "unknown"))"),
                               requestID: requestID, to: self.clients[connection])
                    self.flush()
                }
                return
            }
            logger.notice("state transfer starting", metadata: ["to": "\(target)", "epoch": "\(epoch)"])
            let reply: Message
            do {
                let lastSeq = try await SnapshotSender.send(databasePath: path, from: id, to: target, epoch: epoch, group: group,
                                                             security: security, logger: logger)
                reply = .ack(epoch: epoch, seq: lastSeq)
            } catch {
                logger.warning("state transfer failed", metadata: ["to": "\(target)", "error": "\(error)"])
                reply = .error(.internalError, "state transfer to \(target) failed: \(error)")
            }
            loop.execute {
                self.write(reply, requestID: requestID, to: self.clients[connection])
                self.flush()
            }
        }
    }

    /// Request outcomes of a snapshot, sent before its rows.
    func receiveOutcomes(epoch: UInt64, from: String, lastSeq: UInt64, _ outcomes: [WriteOutcome], connection: UInt64, requestID: UInt64) {
        let channel = clients[connection]
        if let refusal = transferRefusal(epoch: epoch, from: from) {
            write(.error(.refused, refusal), requestID: requestID, to: channel)
            return
        }
        guard outcomes.allSatisfy({ $0.seq <= lastSeq }) else {
            write(.error(.badRequest, "request outcomes must not be beyond the snapshot's seq \(lastSeq)"),
                  requestID: requestID, to: channel)
            return
        }
        do {
            try beginTransferIfNew(epoch: epoch, lastSeq: lastSeq, connection: connection)
            try withWriter { try $0.loadOutcomes(outcomes) }
            write(.ack(epoch: epoch, seq: lastSeq), requestID: requestID, to: channel)
        } catch {
            logger.error("cannot store request outcomes of a snapshot", metadata: ["error": "\(error)"])
            incomingTransfer = nil
            write(.error(.internalError, "cannot store the snapshot: \(error)"), requestID: requestID, to: channel)
        }
    }

    /// Why a snapshot chunk of `epoch` from `from` is refused, if it is. Only the tail of this
    /// server's current configuration may send one; a joiner that has not yet seen the epoch
    /// refuses, and the leader retries the join a moment later.
    private func transferRefusal(epoch: UInt64, from: String) -> String? {
        guard replica.role == .outside else { return "this server is a member of the chain; it takes no snapshot" }
        guard epoch == replica.view.epoch else {
            return "snapshot of epoch \(epoch), but this server is in epoch \(replica.view.epoch)"
        }
        guard from == replica.view.tail else {
            return "snapshot from \(from), which is not the tail of epoch \(epoch) (\(replica.view.tail ?? "none"))"
        }
        return nil
    }

    /// A new transfer starts from an empty database, whatever an earlier one left.
    private func beginTransferIfNew(epoch: UInt64, lastSeq: UInt64, connection: UInt64) throws {
        guard incomingTransfer?.lastSeq != lastSeq || incomingTransfer?.connection != connection else { return }
        try withWriter { try $0.reset(lastSeq: lastSeq) }
        incomingTransfer = (lastSeq, connection)
        logger.notice("receiving a snapshot", metadata: ["lastSeq": "\(lastSeq)", "epoch": "\(epoch)"])
    }

    /// A chunk of a snapshot from the tail. Only a server outside the chain takes one: the
    /// snapshot replaces its whole database, whatever it held before (a revived server's copy
    /// may be stale).
    func receiveTransfer(epoch: UInt64, from: String, lastSeq: UInt64, rows: [Row], done: Bool, connection: UInt64, requestID: UInt64) {
        let channel = clients[connection]
        if let refusal = transferRefusal(epoch: epoch, from: from) {
            write(.error(.refused, refusal), requestID: requestID, to: channel)
            return
        }
        do {
            try beginTransferIfNew(epoch: epoch, lastSeq: lastSeq, connection: connection)
            if !rows.isEmpty {
                let tuples = rows.map { (key: $0.key, value: $0.value) }
                try withWriter { try $0.load(tuples) }
            }
            if done {
                incomingTransfer = nil
                // The core restarts from the snapshot: it holds everything up to `lastSeq` and
                // catches up on the rest from its predecessor once it is the tail.
                let requests = try withWriter { try $0.requests() }
                replica = Replica(id: config.id, lastSeq: lastSeq, view: replica.view, requests: requests)
                // The new core must know which inbound links are up, or it would never send the
                // position ack a predecessor connected earlier is waiting for.
                for node in inbound.keys { perform(replica.on(.predecessorLink(node, up: true))) }
                logger.notice("snapshot received; waiting to be made the tail", metadata: ["lastSeq": "\(lastSeq)"])
            }
            write(.ack(epoch: epoch, seq: lastSeq), requestID: requestID, to: channel)
        } catch {
            logger.error("cannot store a snapshot chunk", metadata: ["error": "\(error)"])
            incomingTransfer = nil
            write(.error(.internalError, "cannot store the snapshot: \(error)"), requestID: requestID, to: channel)
        }
    }
}

import ChainCore
import ChainStorage
import ChainWire
import NIOCore

/// State transfer: the tail streams a snapshot to a joining server when the leader asks.
extension ChainNode {
    /// The leader asks this node (the tail) to send a snapshot to `target`. The reply to the
    /// leader's request is sent when the joiner has acknowledged the whole snapshot.
    func startTransfer(epoch: UInt64, to target: NodeAddress, connection: UInt64, requestID: UInt64) {
        guard epoch == replica.view.epoch, replica.role.isTail else {
            write(.error(.refused, "not the tail of epoch \(epoch) (this node: \(replica.role.rawValue) in epoch \(replica.view.epoch))"),
                  requestID: requestID, to: clients[connection])
            return
        }
        logger.notice("state transfer starting", metadata: ["to": "\(target)", "epoch": "\(epoch)"])
        let (path, group, logger, loop, security) = (databasePath, self.group, self.logger, self.loop, self.security.outbound)
        Task {
            let reply: Message
            do {
                let lastSeq = try await SnapshotSender.send(databasePath: path, to: target, epoch: epoch, group: group,
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

    /// A chunk of a snapshot from the tail. Only a server outside the chain takes one: the
    /// snapshot replaces its whole database, whatever it held before (a revived server's copy
    /// may be stale).
    func receiveTransfer(epoch: UInt64, lastSeq: UInt64, rows: [Row], done: Bool, connection: UInt64, requestID: UInt64) {
        let channel = clients[connection]
        guard replica.role == .outside else {
            write(.error(.refused, "this server is a member of the chain; it takes no snapshot"), requestID: requestID, to: channel)
            return
        }
        guard epoch >= replica.view.epoch else {
            write(.error(.refused, "snapshot of epoch \(epoch) is older than this server's epoch \(replica.view.epoch)"),
                  requestID: requestID, to: channel)
            return
        }
        do {
            if incomingTransfer?.lastSeq != lastSeq || incomingTransfer?.connection != connection {
                // A new transfer starts from an empty database, whatever an earlier one left.
                try committer.withExclusiveStore { try $0.reset(lastSeq: lastSeq) }
                incomingTransfer = (lastSeq, connection)
                logger.notice("receiving a snapshot", metadata: ["lastSeq": "\(lastSeq)", "epoch": "\(epoch)"])
            }
            if !rows.isEmpty {
                let tuples = rows.map { (key: $0.key, value: $0.value) }
                try committer.withExclusiveStore { try $0.load(tuples) }
            }
            if done {
                incomingTransfer = nil
                // The core restarts from the snapshot: it holds everything up to `lastSeq` and
                // catches up on the rest from its predecessor once it is the tail.
                replica = Replica(id: config.id, lastSeq: lastSeq, view: replica.view)
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

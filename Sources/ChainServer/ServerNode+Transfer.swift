import ChainCore
import ChainWire
import NIOCore

/// The tail's side of a state transfer: it streams a snapshot to a joining server when the
/// leader asks (SnapshotSender), and answers the leader's request when the joiner has
/// acknowledged the whole snapshot.
extension ServerNode {
    /// Only the current leader may ask, for the current epoch: the sender names itself, and the
    /// name must be the one at the head of the election in ZooKeeper. (Who may connect at all is
    /// the shared secret's business; this keeps one member from directing another's data.)
    func sendSnapshot(epoch: UInt64, leader asker: String, to target: NodeAddress, ref: ClientRef) {
        let core = replica.core
        guard epoch == core.view.epoch, core.role.isTail else {
            reply(.error(.refused, "not the tail of epoch \(epoch) (this node: \(core.role.rawValue) in epoch \(core.view.epoch))"), to: ref)
            return
        }
        let (path, group, logger, loop, id, coordination) = (databasePath, self.group, self.logger, self.loop, config.id, self.coordination)
        let security = self.security.outbound
        Task {
            let current = try? await coordination?.coordinator.leaderID()
            let answer: Message
            if current != asker {
                logger.warning("state transfer refused: not asked by the leader",
                               metadata: ["asker": "\(asker)", "leader": "\(current.flatMap { $0 } ?? "none")"])
                answer = .error(.refused, "\(asker) is not the leader (the leader is \(current.flatMap { $0 } ?? "unknown"))")
            } else {
                logger.notice("state transfer starting", metadata: ["to": "\(target)", "epoch": "\(epoch)"])
                do {
                    let lastSeq = try await SnapshotSender.send(databasePath: path, from: id, to: target, epoch: epoch, group: group,
                                                                 security: security, logger: logger)
                    answer = .ack(epoch: epoch, seq: lastSeq)
                } catch {
                    logger.warning("state transfer failed", metadata: ["to": "\(target)", "error": "\(error)"])
                    answer = .error(.internalError, "state transfer to \(target) failed: \(error)")
                }
            }
            loop.execute {
                self.reply(answer, to: ref)
                self.flush()
            }
        }
    }
}

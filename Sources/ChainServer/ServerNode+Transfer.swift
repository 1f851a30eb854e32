import ChainCore
import ChainWire
import NIOCore

/// State transfer, per chain: the tail streams a snapshot of the chain's database to a joining
/// server when the leader asks (SnapshotSender), and the joiner's snapshot receiver of that
/// chain takes it in.
extension ServerNode {
    func transfer(_ message: Message, chain: String, ref: ClientRef) {
        switch message {
        case .startTransfer(let epoch, let leader, let to):
            sendSnapshot(chain: chain, epoch: epoch, leader: leader, to: to, ref: ref)
        case .dataTransfer(let epoch, let from, let lastSeq, let rows, let done):
            guard let hosted = hostedChain(chain) else { return reply(noSuchChain(chain), to: ref) }
            reply(hosted.snapshots.rows(epoch: epoch, from: from, lastSeq: lastSeq, rows, done: done, ref: ref), to: ref)
        case .outcomeTransfer(let epoch, let from, let lastSeq, let outcomes):
            guard let hosted = hostedChain(chain) else { return reply(noSuchChain(chain), to: ref) }
            reply(hosted.snapshots.outcomes(epoch: epoch, from: from, lastSeq: lastSeq, outcomes, ref: ref), to: ref)
        default:
            reply(.error(.badRequest, "\(message.kind) is not a message about one chain"), to: ref)
        }
    }

    private func noSuchChain(_ chain: String) -> Message {
        .error(.refused, "this server has no chain \(chain)")
    }

    /// Only the current leader may ask, for the current epoch: the sender names itself, and the
    /// name must be the one at the head of the election in ZooKeeper. (Who may connect at all is
    /// the shared secret's business; this keeps one member from directing another's data.)
    private func sendSnapshot(chain: String, epoch: UInt64, leader asker: String, to target: NodeAddress, ref: ClientRef) {
        guard let hosted = chains[chain], epoch == hosted.shell.core.view.epoch, hosted.shell.core.role.isTail else {
            let core = chains[chain]?.shell.core
            metrics.operations.transfer(.refused)
            reply(.error(.refused, "not the tail of chain \(chain) in epoch \(epoch) (this node: \(core?.role.rawValue ?? "outside") in epoch \(core?.view.epoch ?? 0))"),
                  to: ref)
            return
        }
        // Pinned before the snapshot is read, so the history holds everything after its point.
        let shell = hosted.shell
        let pin = shell.pinHistory()  // the pin's token
        let (path, group, logger, id, coordination) = (hosted.database.path, self.group, hosted.shell.logger, config.id, self.coordination)
        let gate = self.gate
        let scope = config.sharded ? chain : nil
        let security = self.security.outbound
        let operations = metrics.operations
        Task {
            let current = try? await coordination?.coordinator.leaderID()
            let answer: Message
            if current != asker {
                logger.warning("state transfer refused: not asked by the leader",
                               metadata: ["asker": "\(asker)", "leader": "\(current.flatMap { $0 } ?? "none")"])
                operations.transfer(.refused)
                answer = .error(.refused, "\(asker) is not the leader (the leader is \(current.flatMap { $0 } ?? "unknown"))")
            } else {
                logger.notice("state transfer starting", metadata: ["to": "\(target)", "epoch": "\(epoch)"])
                let started = ContinuousClock.now
                defer { operations.transferDuration.recordNanoseconds((ContinuousClock.now - started).wholeNanoseconds) }
                do {
                    let lastSeq = try await SnapshotSender.send(databasePath: path, chain: scope, from: id, to: target, epoch: epoch,
                                                                 group: group, security: security, logger: logger)
                    answer = .ack(epoch: epoch, seq: lastSeq)
                    operations.transfer(.ok)
                } catch {
                    logger.warning("state transfer failed", metadata: ["to": "\(target)", "error": "\(error)"])
                    answer = .error(.internalError, "state transfer to \(target) failed: \(error)")
                    operations.transfer(.failed)
                }
            }
            gate.execute {
                if case .ack = answer {
                    // The joiner's catch-up releases the pin; this releases it if the joiner never comes.
                    gate.loop.scheduleTask(in: Self.pinKeptAfterTransfer) { shell.unpinHistory(pin) }
                } else {
                    shell.unpinHistory(pin)
                }
                self.reply(answer, to: ref)
                self.flush()
            }
        }
    }

    /// How long a sent snapshot's pin outlives the transfer without its joiner's catch-up: the
    /// leader splices a joiner in within a ZooKeeper write of the transfer's end; past this it
    /// is not coming, and the pinned history (up to `CoreLimits.recentPinnedBytesMax` of keys and
    /// values) goes back to its ordinary bound.
    static let pinKeptAfterTransfer: TimeAmount = .seconds(30)
}

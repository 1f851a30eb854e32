import ChainCore
import ChainWire
import NIOCore

/// The joiner's side of a state transfer: it takes snapshot chunks from the tail (request
/// outcomes first, then rows, then `done`) into storage and restarts the replica core from them.
/// Only a server outside the chain takes one: the snapshot replaces its whole database, whatever
/// it held before (a revived server's copy may be stale). Confined to the server's loop.
final class SnapshotReceiver: @unchecked Sendable {
    private let replica: ReplicaShell
    /// The snapshot being received: its sequence number and the connection it comes on.
    private var incoming: (lastSeq: UInt64, connection: UInt64)?

    init(replica: ReplicaShell) {
        self.replica = replica
    }

    /// Request outcomes of a snapshot, sent before its rows.
    func outcomes(epoch: UInt64, from: String, lastSeq: UInt64, _ outcomes: [WriteOutcome], ref: ClientRef) -> Message {
        if let refusal = refusal(epoch: epoch, from: from) { return .error(.refused, refusal) }
        guard outcomes.allSatisfy({ $0.seq <= lastSeq }) else {
            return .error(.badRequest, "request outcomes must not be beyond the snapshot's seq \(lastSeq)")
        }
        return store(epoch: epoch, lastSeq: lastSeq, ref: ref) {
            try self.replica.storage.load(outcomes: outcomes)
        }
    }

    /// A chunk of rows; `done` ends the snapshot.
    func rows(epoch: UInt64, from: String, lastSeq: UInt64, _ rows: [Row], done: Bool, ref: ClientRef) -> Message {
        if let refusal = refusal(epoch: epoch, from: from) { return .error(.refused, refusal) }
        return store(epoch: epoch, lastSeq: lastSeq, ref: ref) {
            if !rows.isEmpty { try self.replica.storage.load(rows: rows) }
            guard done else { return }
            self.incoming = nil
            // The core restarts from the snapshot: it holds everything up to `lastSeq` and
            // catches up on the rest from its predecessor once it is the tail.
            self.replica.restart(lastSeq: lastSeq, requests: try self.replica.storage.requests())
            self.replica.context.logger.notice("snapshot received; waiting to be made the tail", metadata: ["lastSeq": "\(lastSeq)"])
        }
    }

    private func store(epoch: UInt64, lastSeq: UInt64, ref: ClientRef, _ body: () throws -> Void) -> Message {
        do {
            try beginIfNew(epoch: epoch, lastSeq: lastSeq, connection: ref.connection)
            try body()
            return .ack(epoch: epoch, seq: lastSeq)
        } catch {
            replica.context.diskFaults.failed(error, while: "storing a snapshot")
            replica.context.logger.error("cannot store a snapshot chunk", metadata: ["error": "\(error)"])
            incoming = nil
            return .error(.internalError, "cannot store the snapshot: \(error)")
        }
    }

    /// Why a snapshot chunk of `epoch` from `from` is refused, if it is. Only the tail of this
    /// server's current configuration may send one; a joiner that has not yet seen the epoch
    /// refuses, and the leader retries the join a moment later.
    private func refusal(epoch: UInt64, from: String) -> String? {
        let view = replica.core.view
        guard replica.core.role == .outside else { return "this server is a member of the chain; it takes no snapshot" }
        guard epoch == view.epoch else { return "snapshot of epoch \(epoch), but this server is in epoch \(view.epoch)" }
        guard from == view.tail else { return "snapshot from \(from), which is not the tail of epoch \(epoch) (\(view.tail ?? "none"))" }
        return nil
    }

    /// A new transfer starts from an empty database, whatever an earlier one left.
    private func beginIfNew(epoch: UInt64, lastSeq: UInt64, connection: UInt64) throws {
        guard incoming?.lastSeq != lastSeq || incoming?.connection != connection else { return }
        try replica.resetStorage(lastSeq: lastSeq)
        incoming = (lastSeq, connection)
        replica.context.logger.notice("receiving a snapshot", metadata: ["lastSeq": "\(lastSeq)", "epoch": "\(epoch)"])
    }
}

import ChainCore
import ChainStorage
import ChainWire
import Logging
import NIOCore

/// Deletes a chain head's rows of some slots, as writes of the chain (`ServerNode.deleteKeys`),
/// a page at a time: the recipient's leftovers before an import, the donor's copy after a move.
/// It reads the chain's database on its own connection, off the server's loop; each page's
/// deletes commit before the next page is read, so memory stays at one page.
struct SlotPurge: Sendable {
    let node: ServerNode
    let chain: String
    let path: String
    let wanted: Set<Int>
    let mapVersion: UInt64
    let logger: Logger

    func run() async -> Message {
        let started = NIODeadline.now()
        do {
            try await ready(until: started + ServerNode.moveWait)
            let (node, chain, slots, mapVersion) = (self.node, self.chain, self.wanted, self.mapVersion)
            let deleted = try await SlotRows.forEachPage(path: path, slots: Array(slots)) { rows in
                let keys = rows.map(\.key)
                try await node.loop.flatSubmit {
                    node.deleteKeys(chain, keys) { node.mayPurge(chain, slots, mapVersion: mapVersion) }
                }.get()
            }
            let ms = (NIODeadline.now() - started).nanoseconds / 1_000_000
            logger.notice("dropped the rows of \(wanted.count) slots", metadata: [
                "keys": "\(deleted)", "mapVersion": "\(mapVersion)", "ms": "\(ms)"])
            return .ack(epoch: 0, seq: UInt64(deleted))
        } catch {
            logger.warning("dropping the rows of slots failed", metadata: ["mapVersion": "\(mapVersion)", "error": "\(error)"])
            return .error(.unavailable, "dropping the rows of slots failed: \(error)")
        }
    }

    /// Waits until this server's map allows the purge and it heads the chain: the recipient of a
    /// new chain may not have read its configuration, or the map, when the leader asks.
    private func ready(until deadline: NIODeadline) async throws {
        let (node, chain, wanted, mapVersion) = (self.node, self.chain, self.wanted, self.mapVersion)
        // Every refusal may pass (a map or configuration not read yet): each waits, and the last
        // one seen is the error if the deadline comes first.
        try await node.pollUntilReady(until: deadline, every: .milliseconds(5)) { () -> ServerNode.MoveReadiness<Void> in
            guard node.mayPurge(chain, wanted, mapVersion: mapVersion) else {
                return .wait("chain \(chain) may not drop these slots under this server's map (version \(node.slots?.version ?? 0), "
                    + "asked for \(mapVersion))")
            }
            // Opened here if a configuration names this server (a new chain's first move).
            guard node.named(in: chain), let hosted = node.hostedChain(chain), hosted.shell.core.role.isHead else {
                return .wait("not the head of chain \(chain)")
            }
            return .ready(())
        }
    }
}

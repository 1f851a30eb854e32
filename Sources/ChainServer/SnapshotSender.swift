import ChainTransport
import ChainStorage
import ChainWire
import Logging
import NIOCore

/// Streams one consistent snapshot of this server's database to a joining server, in bounded
/// chunks, each acknowledged before the next is sent (so memory stays at one chunk per side).
///
/// The snapshot is one SQLite read transaction on its own connection: the server keeps
/// committing meanwhile, and the joiner catches up on those writes from its predecessor's
/// recent updates once the leader makes it the tail.
enum SnapshotSender {
    static let chunkTimeout = TimeAmount.seconds(30)

    /// `message` about chain `chain` (nil: the single chain, sent as it is).
    static func scoped(_ chain: String?, _ message: Message) -> Message {
        chain.map { .onChain(chain: $0, message) } ?? message
    }

    /// Returns the sequence number the snapshot is at.
    /// `chain`: the chain's id in a sharded cluster, which every chunk names (`onChain`).
    static func send(databasePath: String, chain: String?, from id: String, to target: NodeAddress, epoch: UInt64, group: EventLoopGroup,
                     security: ConnectionSecurity, logger: Logger) async throws -> UInt64 {
        let store = try Store(path: databasePath)
        defer { store.close() }
        let connection = try await Connection.connect(host: target.host, port: target.port, group: group, timeout: .seconds(2),
                                                      security: security)
        defer { connection.close() }
        try store.beginSnapshot()
        defer { try? store.endSnapshot() }
        let lastSeq = try store.lastSeq()
        var cursor = ScanCursor.start
        var rowsSent = 0
        var bytesSent = 0
        // Request outcomes first, rows next: the `done` chunk of rows tells the joiner that its
        // database is complete.
        let outcomesSent = try await sendOutcomes(store, connection, chain: chain, from: id, epoch: epoch, lastSeq: lastSeq, target: target)
        while true {
            let page = try store.scan(after: cursor, limit: WireLimits.transferChunkRowsMax, byteLimit: WireLimits.transferChunkBytesMax)
            let rows = page.rows.map { Row(key: $0.key, value: $0.value, version: $0.version) }
            let done = rows.isEmpty
            let reply = try await connection.request(scoped(chain, .dataTransfer(epoch: epoch, from: id, lastSeq: lastSeq, rows: rows, done: done)),
                                                     timeout: chunkTimeout)
            guard case .ack(_, let seq) = reply, seq == lastSeq else {
                throw TransferError("joiner \(target) refused a chunk: \(reply)")
            }
            rowsSent += rows.count
            bytesSent += rows.reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
            if done { break }
            cursor = page.next
        }
        logger.notice("snapshot sent", metadata: ["to": "\(target)", "lastSeq": "\(lastSeq)", "rows": "\(rowsSent)",
                                                  "bytes": "\(bytesSent)", "outcomes": "\(outcomesSent)"])
        return lastSeq
    }

    /// Streams the request outcomes of the same snapshot; returns how many were sent.
    private static func sendOutcomes(_ store: Store, _ connection: Connection, chain: String?, from id: String, epoch: UInt64, lastSeq: UInt64,
                                     target: NodeAddress) async throws -> Int {
        var after: UInt64 = 0
        var sent = 0
        while true {
            let page = try store.outcomes(afterSeq: after, limit: WireLimits.transferChunkRowsMax,
                                          byteLimit: WireLimits.transferChunkBytesMax)
            guard let last = page.last else { return sent }
            let reply = try await connection.request(scoped(chain, .outcomeTransfer(epoch: epoch, from: id, lastSeq: lastSeq, outcomes: page)),
                                                     timeout: chunkTimeout)
            guard case .ack(_, let seq) = reply, seq == lastSeq else {
                throw TransferError("joiner \(target) refused request outcomes: \(reply)")
            }
            sent += page.count
            after = last.seq
        }
    }
}

struct TransferError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

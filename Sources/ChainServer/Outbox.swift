import ChainCore
import ChainWire
import NIOCore

/// The server's open connections by id, and the writes made to any channel during one event:
/// each channel written is flushed once when the event is done, so a burst of replies (or
/// forwards) costs one write system call, not one per frame. Confined to the server's loop.
final class Outbox: @unchecked Sendable {
    /// Client (and inbound peer) connections by the id they got when they opened, each with its
    /// channel's frame encoder: replies go straight into the encoder's batch (`reply`).
    private var connections: [UInt64: (channel: Channel, encoder: FrameBatchEncoder?)] = [:]
    private var nextConnectionID: UInt64 = 1
    /// Channels written since the last flush.
    private var unflushed: [ObjectIdentifier: Channel] = [:]
    /// Successor links written since the last flush: flushed once per loop turn (`TurnFlush`),
    /// not at the end of each client connection's read batch, so that the writes of every client
    /// read in one turn go down the chain in one system call.
    private var unflushedOnTurn: [ObjectIdentifier: Channel] = [:]
    /// Requests the server makes of its own shells (a slot purge's deletes): replies go to a
    /// closure instead of a channel.
    private var internalConnections: [UInt64: (Message, UInt64) -> Void] = [:]

    /// Registers a new inbound connection; its id names it in `ClientRef`s. `encoder`: the
    /// channel's `FrameBatchEncoder` (nil: replies take the pipeline like any write).
    func opened(_ channel: Channel, encoder: FrameBatchEncoder? = nil) -> UInt64 {
        precondition(encoder == nil || channel.eventLoop.inEventLoop, "the outbox and its channels share one loop")
        let id = nextConnectionID
        nextConnectionID += 1
        connections[id] = (channel, encoder)
        return id
    }

    func closed(_ id: UInt64) {
        connections[id] = nil
        internalConnections[id] = nil
    }

    /// Registers a connection inside the server: each reply to a request on it is passed to
    /// `handler` with the request's id. Closed with `closed(_:)`.
    func openedInternal(_ handler: @escaping (Message, UInt64) -> Void) -> UInt64 {
        let id = nextConnectionID
        nextConnectionID += 1
        internalConnections[id] = handler
        return id
    }

    func channel(_ id: UInt64) -> Channel? { connections[id]?.channel }

    /// Queues `message` on `channel` (dropped when it is nil or closed: the peer is gone).
    /// `encoder`: the channel's `FrameBatchEncoder`, when the caller keeps it: the frame goes
    /// straight into its batch (`FrameBatchEncoder.enqueue`) instead of through the pipeline.
    /// `onTurn`: flush it with the loop turn's flush only (`flushReplies` leaves it).
    func write(_ message: Message, requestID: UInt64, to channel: Channel?, encoder: FrameBatchEncoder? = nil, onTurn: Bool = false) {
        guard let channel, channel.isActive else { return }
        if encoder?.enqueue(Frame(requestID: requestID, message)) != true {
            channel.write(Frame(requestID: requestID, message), promise: nil)
        }
        if onTurn {
            unflushedOnTurn[ObjectIdentifier(channel)] = channel
        } else {
            unflushed[ObjectIdentifier(channel)] = channel
        }
    }

    /// Queues the reply to one client request: into the connection's encoder when it has one
    /// (`FrameBatchEncoder.enqueue`, no trip through the pipeline), else as a write.
    func reply(_ message: Message, to ref: ClientRef) {
        if let handler = internalConnections[ref.connection] { return handler(message, ref.request) }
        guard let connection = connections[ref.connection] else { return }
        write(message, requestID: ref.request, to: connection.channel, encoder: connection.encoder)
    }

    /// Flushes every channel written.
    func flush() {
        flushReplies()
        guard !unflushedOnTurn.isEmpty else { return }
        for channel in unflushedOnTurn.values { channel.flush() }
        unflushedOnTurn.removeAll(keepingCapacity: true)
    }

    /// Flushes the channels written but the successor links: a client's reply leaves at the end
    /// of its read batch (deferred to the turn's end, closed-loop readers lost 5 % of their reads/s).
    func flushReplies() {
        guard !unflushed.isEmpty else { return }
        for channel in unflushed.values { channel.flush() }
        unflushed.removeAll(keepingCapacity: true)
    }

    func closeAll() {
        for connection in connections.values { connection.channel.close(promise: nil) }
    }
}

import ChainCore
import ChainWire

/// The replica shell's outbound link to its successor, as the shell sees it: `SuccessorLink` on
/// a server, a recording fake in the shell tests.
protocol SuccessorChannel: AnyObject {
    var node: NodeID { get }
    /// Queues a message (flushed with the event's other writes); dropped while the link is down.
    func send(_ message: Message)
    func close()
}

/// What a successor link reports to the replica shell, on the server's loop.
protocol SuccessorLinkDelegate: AnyObject {
    /// A fresh connection finished its handshake and sent `hello`.
    func successorLinkUp(_ node: NodeID)
    func successorMessage(from node: NodeID, _ message: Message)
    /// The end of one read batch from the successor: flush what it caused.
    func flush()
    /// The `hello` a new link opens with (carries the epoch the link is in).
    func hello() -> Message
}

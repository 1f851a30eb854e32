import NIOCore

/// A flush run once at the end of the event loop's current turn, however many read batches of
/// the turn ask for it. NIO runs the tasks queued during a turn after it has handled every
/// channel that was ready, so the forwards caused by all the client connections read in one turn
/// go to the successor in one write system call, and the commit thread is handed their updates
/// once. A flush at the end of each connection's read batch wrote to the successor once per
/// client connection read: with 32 closed-loop writers, about a write system call per write at
/// the head (issue 18, cut 30). Replies are not held for it (`Outbox.flushReplies`). Confined to
/// the loop.
final class TurnFlush: @unchecked Sendable {
    private let loop: EventLoop
    private let flush: () -> Void
    private var scheduled = false

    /// `flush` must not hold its owner strongly: the owner holds this.
    init(loop: EventLoop, flush: @escaping () -> Void) {
        self.loop = loop
        self.flush = flush
    }

    func request() {
        loop.assertInEventLoop()
        guard !scheduled else { return }
        scheduled = true
        loop.execute {
            self.scheduled = false
            self.flush()
        }
    }
}

import NIOConcurrencyHelpers
import NIOCore

/// The way work from other threads (tasks, the committer thread, ZooKeeper's callbacks) reaches
/// a server's event loop, until the server stops.
///
/// `ChainServer.stop` closes the gate just before it shuts the loop down. A dial, a heartbeat, a
/// lease renewal or a commit that ends after that would hand its result to a loop that refuses
/// new work: NIO drops the work and prints "Cannot schedule tasks on an EventLoop that has already
/// shut down" (its strict mode, and later versions, crash instead). That line was in 2 of 117
/// server logs of clusters whose servers all stopped at once. Through the gate such work is
/// dropped here, quietly: nothing waits for it once the server stops.
final class LoopGate: Sendable {
    let loop: EventLoop
    private let open = NIOLockedValueBox(true)

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Runs `work` on the loop, or drops it if the gate is closed.
    func execute(_ work: @escaping @Sendable () -> Void) {
        // Handed over under the lock, so `close` cannot come between the check and the hand-over:
        // once `close` returns, nothing more reaches the loop through this gate.
        open.withLockedValue { isOpen in
            if isOpen { loop.execute(work) }
        }
    }

    var isOpen: Bool { open.withLockedValue { $0 } }

    /// From then on `execute` drops its work. Call before the loop shuts down.
    func close() {
        open.withLockedValue { $0 = false }
    }
}

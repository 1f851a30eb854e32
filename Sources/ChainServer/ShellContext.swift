import ChainCore
import Logging
import NIOCore

/// What every shell of one server shares: the event loop all its state is confined to, the clock
/// the cores read, where replies go, the peers' addresses, metrics and the logger.
///
/// Time is read from `loop.now`: the real clock on a server's loop, a virtual one on the
/// `EmbeddedEventLoop` of the shell tests, which then drive timeouts without sleeping.
struct ShellContext {
    let loop: EventLoop
    /// How work from other threads reaches `loop` (closed as the server stops).
    let gate: LoopGate
    let outbox: Outbox
    let addresses: AddressBook
    let metrics: ServerMetrics
    var logger: Logger
    /// Where storage failures go: a disk fault fails stop, or (full) makes the server wait for space.
    let diskFaults: DiskFaultHandler
    /// When the server started: ticks and lease times count from here.
    let startedAt: NIODeadline

    /// Period of the leader's tick (and of the replica's refresh, every tenth tick).
    static let tickInterval = TimeAmount.milliseconds(100)

    init(loop: EventLoop, outbox: Outbox, addresses: AddressBook, metrics: ServerMetrics, logger: Logger,
         diskFaults: DiskFaultHandler? = nil) {
        self.loop = loop
        self.gate = LoopGate(loop: loop)
        self.diskFaults = diskFaults ?? DiskFaultHandler(logger: logger)
        self.outbox = outbox
        self.addresses = addresses
        self.metrics = metrics
        self.logger = logger
        self.startedAt = loop.now
    }

    /// The same context, logging with the chain's id (the shells of one chain of several).
    func with(chain: String) -> ShellContext {
        var copy = self
        copy.logger[metadataKey: "chain"] = "\(chain)"
        return copy
    }

    /// Ticks since start: the leader core's clock.
    var ticks: UInt64 { UInt64(elapsedNanoseconds / Self.tickInterval.nanoseconds) }
    /// Milliseconds since start, on the monotonic clock: the replica core's time for read leases.
    var nowMs: UInt64 { UInt64(elapsedNanoseconds / 1_000_000) }
    private var elapsedNanoseconds: Int64 { max(0, (loop.now - startedAt).nanoseconds) }
    static var tickMs: UInt64 { UInt64(tickInterval.nanoseconds / 1_000_000) }
}

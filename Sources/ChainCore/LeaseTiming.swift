/// The read lease and every wait derived from it, in one place (README, "No stale reads").
///
/// A server may answer reads as head until `leaseMs` after it *sent* a ZooKeeper round trip
/// (a `sync`, then a check that its member znode still exists) that succeeded. To drop a head
/// that may still be alive, the leader deletes that znode (no renewal sent after the deletion
/// can succeed) and then waits `fenceWaitMs` before it names a new head. The margin covers the
/// two servers' clocks running at different rates: the wait outlasts the lease as long as the
/// head's clock runs no more than `driftPercent` % slower than the leader's.
public struct LeaseTiming: Equatable, Sendable {
    public let leaseMs: UInt64
    /// Clock-rate margin, in percent of the lease. Real clocks differ by parts per million;
    /// 25 % also covers a virtual machine whose clock is steered hard after a pause.
    public static let driftPercent: UInt64 = 25
    /// Renewals per lease: up to three in a row may be lost or late without the lease lapsing.
    public static let renewalsPerLease: UInt64 = 4
    /// Bounds on the lease: shorter makes a loaded machine drop leases on scheduling delays;
    /// longer makes every head failover wait longer.
    public static let leaseMsRange: ClosedRange<UInt64> = 100...60_000

    public init(leaseMs: UInt64) {
        precondition(Self.leaseMsRange.contains(leaseMs), "lease out of range: \(leaseMs) ms")
        self.leaseMs = leaseMs
    }

    /// How often a server renews its lease.
    public var renewIntervalMs: UInt64 { leaseMs / Self.renewalsPerLease }

    /// How long the leader waits after deleting a head's member znode before it may name another
    /// head: the lease plus the drift margin.
    public var fenceWaitMs: UInt64 { leaseMs + (leaseMs * Self.driftPercent + 99) / 100 }  // margin rounded up

    /// The lease end of a renewal sent at `sentAtMs` (monotonic milliseconds of this server).
    public func leaseEnd(sentAtMs: UInt64) -> UInt64 { sentAtMs + leaseMs }

    /// `fenceWaitMs` in ticks of `tickMs`, rounded up: a wait must never come out shorter.
    public func fenceTicks(tickMs: UInt64) -> UInt64 {
        precondition(tickMs > 0)
        return (fenceWaitMs + tickMs - 1) / tickMs
    }
}

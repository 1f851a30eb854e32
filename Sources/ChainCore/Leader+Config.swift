extension Leader {
    /// The leader's settings: formation, transfer, fencing and dead-link timing, in ticks.
    public struct Config: Equatable, Sendable {
        /// Members to wait for before the first chain is formed.
        public var expectedMembers: Int
        /// Ticks to wait for them before forming a chain of whoever is there.
        public var formationTicks: UInt64
        /// Ticks a state transfer may take before the leader gives up on it and tries again.
        public var transferTicks: UInt64
        /// Ticks a head may go on serving reads after its member znode was deleted
        /// (`LeaseTiming.fenceTicks`). A new leader waits this long after its election before it
        /// drops a head whose znode is already gone: a previous leader may have deleted it to
        /// fence the head and ended before it had waited out the lease.
        public var fenceTicks: UInt64
        /// Ticks a member may stay behind its predecessor without taking anything in, while both
        /// answer heartbeats, before the leader takes the link between them for dead (`LinkWatch`).
        public var linkStallTicks: UInt64

        public init(expectedMembers: Int, formationTicks: UInt64, transferTicks: UInt64 = 600, fenceTicks: UInt64,
                    linkStallTicks: UInt64 = 30) {
            precondition(expectedMembers >= 1, "a chain needs a member")
            precondition(linkStallTicks >= 1, "a stall lasts at least a tick")
            self.expectedMembers = expectedMembers
            self.formationTicks = formationTicks
            self.transferTicks = transferTicks
            self.fenceTicks = fenceTicks
            self.linkStallTicks = linkStallTicks
        }
    }
}

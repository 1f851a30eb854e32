/// A `Duration` as a whole count of one unit, for the APIs and clocks that take integers
/// (pthread waits, histogram handles, ZooKeeper's session timeout, logs). Each used to write out
/// `components.seconds * … + components.attoseconds / …` itself.
extension Duration {
    /// Whole nanoseconds, rounded toward zero; saturates at `Int64`'s bounds (about 292 years).
    public var wholeNanoseconds: Int64 { whole(unitAttoseconds: 1_000_000_000, perSecond: 1_000_000_000) }

    /// Whole milliseconds, rounded toward zero; saturates at `Int64`'s bounds.
    public var wholeMilliseconds: Int64 { whole(unitAttoseconds: 1_000_000_000_000_000, perSecond: 1000) }

    private func whole(unitAttoseconds: Int64, perSecond: Int64) -> Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: perSecond)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflowAdding) = scaled.addingReportingOverflow(attoseconds / unitAttoseconds)
        return overflowAdding ? (seconds < 0 ? .min : .max) : sum
    }
}

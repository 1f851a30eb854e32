import ChainBench

/// The failover benchmark's throughput windows (ChainBench's RateWindow) around each kill.
typealias BenchFailoverRate = RateWindow

extension BenchFailoverKill {
    /// Waits until the rate window after the kill has passed, then records both loops' rates.
    /// The wait counts towards the settle time between kills, so the run is no longer when the
    /// cluster took longer than the window to get whole again. Returns the settle time left.
    mutating func addRates(kill: UInt64, writes: BenchFailoverTimeline, reads: BenchFailoverTimeline?,
                           settle: Double) async -> Double {
        let windowEnd = kill + UInt64(BenchFailoverRate.afterMs * 1e6)
        let wait = Double(windowEnd &- min(windowEnd, benchNow())) / 1e9
        await BenchFailoverWait.sleep(wait)
        let now = benchNow()
        write.rate = writes.rate(kill: kill, now: now)
        read?.rate = reads?.rate(kill: kill, now: now)
        return max(0, settle - wait)
    }
}

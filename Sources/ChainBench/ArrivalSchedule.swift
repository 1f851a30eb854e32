#if canImport(Glibc)
import Glibc
#endif

/// When an open-loop load's requests are due (`chainkv bench run --rate`).
///
/// A closed-loop client sends its next request when the last one returns, so a server that slows
/// down is offered less load, and a stall shows as one slow request instead of the many that real
/// users would have sent meanwhile ("coordinated omission"). An open-loop load sends at a fixed
/// rate whatever the answers: each loop owns one schedule whose gaps are exponential with mean
/// `1 / rate`, so the loops together are a Poisson process, and each request's latency is taken
/// from its due time, not from when the loop got round to sending it. A loop that is behind sends
/// at once, and the time it was behind counts in that request's latency.
public struct ArrivalSchedule: Sendable, Equatable {
    /// Bound on one loop's rate: 1 µs between requests on average is more than a loop can send.
    public static let maxRatePerSecond = 1_000_000.0
    /// Bound below: one request in about three hours, whose longest gap (`maxGapInMeans`) still
    /// fits a UInt64 of nanoseconds many times over.
    public static let minRatePerSecond = 0.0001
    /// Bound on one gap, in means: without it a unit sample next to 1 would give an endless gap
    /// (`-ln(1 - u)` is at most 36.7 for a double below 1, so this only guards the arithmetic).
    public static let maxGapInMeans = 50.0

    /// Mean gap between two of this loop's requests, in nanoseconds.
    public let meanGapNanoseconds: Double
    /// When the next request is due (monotonic nanoseconds).
    public private(set) var due: UInt64

    /// A schedule of `ratePerSecond` requests a second, whose first request is due one gap after
    /// `start` (drawn from `unit`, uniform in [0, 1)), so loops that start together do not send together.
    public init(ratePerSecond: Double, start: UInt64, unit: Double) {
        precondition(ratePerSecond >= Self.minRatePerSecond && ratePerSecond <= Self.maxRatePerSecond,
                     "a loop's rate is \(Self.minRatePerSecond) to \(Self.maxRatePerSecond)/s, got \(ratePerSecond)")
        meanGapNanoseconds = 1e9 / ratePerSecond
        due = start
        advance(unit: unit)
    }

    /// The gap that a uniform sample in [0, 1) stands for: exponential with the schedule's mean.
    public func gap(unit: Double) -> UInt64 {
        precondition(unit >= 0 && unit < 1, "a unit sample is in [0, 1), got \(unit)")
        let means = min(-log1p(-unit), Self.maxGapInMeans)
        return UInt64((means * meanGapNanoseconds).rounded())
    }

    /// Moves to the next request's due time: one gap after the last due time, not after now, so
    /// a loop that fell behind catches up instead of lowering the offered rate.
    public mutating func advance(unit: Double) {
        let (next, overflow) = due.addingReportingOverflow(gap(unit: unit))
        due = overflow ? .max : next
    }
}

/// The longest stretch of a history in which no operation completed successfully: from the last
/// completion before it to the first after it, on the history's clock (nanoseconds). The time
/// before the first completion is not a gap (the load was starting). A fault run reports it, and
/// the faults around it, so that an outlier says what caused it without the run's data.
public struct UnavailabilityWindow: Equatable, Sendable, CustomStringConvertible {
    public var from: UInt64
    public var to: UInt64

    public init(from: UInt64, to: UInt64) {
        precondition(from <= to, "a window ends after it starts")
        self.from = from
        self.to = to
    }

    public var milliseconds: Int { Int((to - from) / 1_000_000) }

    /// Nil for a history with fewer than two completions. Only operations whose outcome the client
    /// saw count (`outcomeIsKnown`). Of equal gaps, the first.
    public static func longest(in history: [Operation]) -> UnavailabilityWindow? {
        let times = completionTimes(in: history)
        guard times.count >= 2 else { return nil }
        var best = UnavailabilityWindow(from: times[0], to: times[0])
        for (previous, next) in zip(times, times.dropFirst()) where next - previous > best.to - best.from {
            best = UnavailabilityWindow(from: previous, to: next)
        }
        return best
    }

    /// When the operations whose outcome the client saw completed, in order.
    public static func completionTimes(in history: [Operation]) -> [UInt64] {
        history.filter(\.outcomeIsKnown).compactMap(\.complete).sorted()
    }

    /// Whether an instant (seconds on the same clock) lies in the window or within `lead` seconds
    /// before it: a fault that began shortly before the last success may be what ended the service.
    public func covers(seconds: Double, lead: Double) -> Bool {
        let instant = seconds * 1e9
        return instant >= Double(from) - lead * 1e9 && instant <= Double(to)
    }

    /// "12.34-18.36 s" on the history's clock.
    public var description: String {
        let start = Double(from) / 1e9, end = Double(to) / 1e9
        return "\(Self.twoDecimals(start))-\(Self.twoDecimals(end)) s"
    }

    private static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

import XCTest
@testable import ChainBench

final class ArrivalScheduleTests: XCTestCase {
    private static let ln2 = 0.693_147_180_559_945_3
    private static let e = 2.718_281_828_459_045
    /// A small deterministic generator, so the tests see the same samples every run.
    private struct Units {
        var state: UInt64 = 42
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) * 0x1.0p-53
        }
    }

    func testGapsAreExponentialWithTheRatesMean() {
        // 1,000/s: a mean gap of 1 ms; the median of an exponential is ln 2 of its mean.
        var units = Units()
        var schedule = ArrivalSchedule(ratePerSecond: 1000, start: 0, unit: units.next())
        var gaps: [UInt64] = []
        for _ in 0..<20_000 {
            let before = schedule.due
            schedule.advance(unit: units.next())
            gaps.append(schedule.due - before)
        }
        let mean = Double(gaps.reduce(0, +)) / Double(gaps.count)
        XCTAssertEqual(mean, 1_000_000, accuracy: 30_000)
        let median = Double(gaps.sorted()[gaps.count / 2])
        XCTAssertEqual(median, 1_000_000 * Self.ln2, accuracy: 30_000)
        // Shorter than the mean about 1 - 1/e of the time, not half of it as evenly spaced gaps would be.
        let shorter = Double(gaps.filter { $0 < 1_000_000 }.count) / Double(gaps.count)
        XCTAssertEqual(shorter, 1 - 1 / Self.e, accuracy: 0.02)
    }

    func testTheFirstRequestIsDueOneGapAfterTheStart() {
        let s = ArrivalSchedule(ratePerSecond: 100, start: 5_000_000_000, unit: 0.5)
        // -ln(0.5) × 10 ms.
        XCTAssertEqual(s.due, 5_000_000_000 + UInt64((Self.ln2 * 10_000_000).rounded()))
        XCTAssertEqual(ArrivalSchedule(ratePerSecond: 100, start: 7, unit: 0).due, 7)
    }

    func testAdvancesFromTheLastDueTimeSoALateLoopCatchesUp() {
        // Due times depend only on the samples: a loop that was busy for a second still has the
        // requests of that second due, in the past, and sends them at once.
        var s = ArrivalSchedule(ratePerSecond: 1000, start: 0, unit: 0.5)
        let first = s.due
        s.advance(unit: 0.5)
        XCTAssertEqual(s.due, 2 * first)
    }

    func testASampleNextToOneGivesABoundedGap() {
        let s = ArrivalSchedule(ratePerSecond: 1, start: 0, unit: 0)
        let top = 1.0.nextDown
        XCTAssertLessThanOrEqual(s.gap(unit: top), UInt64(ArrivalSchedule.maxGapInMeans * 1e9))
        XCTAssertGreaterThan(s.gap(unit: top), UInt64(30 * 1e9))
        XCTAssertEqual(s.gap(unit: 0), 0)
        // The slowest rate allowed (a mean gap of 10^13 ns): its longest gap, about four days, fits,
        // and a due time near the clock's end saturates instead of wrapping.
        var slowest = ArrivalSchedule(ratePerSecond: ArrivalSchedule.minRatePerSecond, start: .max - 1_000, unit: 0)
        XCTAssertGreaterThan(slowest.gap(unit: top), UInt64(30e13))
        XCTAssertLessThanOrEqual(slowest.gap(unit: top), UInt64(ArrivalSchedule.maxGapInMeans * 1e13))
        slowest.advance(unit: top)
        XCTAssertEqual(slowest.due, .max)
    }
}

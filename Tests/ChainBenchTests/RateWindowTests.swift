import XCTest
@testable import ChainBench

final class RateWindowTests: XCTestCase {
    private let ms: UInt64 = 1_000_000

    /// A steady 1 per 10 ms (100/s) with nothing from 200 to 600 ms after the kill.
    private func completions(kill: UInt64) -> [UInt64] {
        stride(from: kill - 2000 * ms, to: kill + 3000 * ms, by: Int(10 * ms)).filter { $0 < kill + 200 * ms || $0 >= kill + 600 * ms }
    }

    func testCountsEachBucketAroundTheKillAsOperationsPerSecond() throws {
        let kill: UInt64 = 10_000 * ms
        let r = try XCTUnwrap(RateWindow(completions: completions(kill: kill), kill: kill, now: kill + 5000 * ms))
        XCTAssertEqual(r.fromMs, -RateWindow.beforeMs)
        XCTAssertEqual(r.opsPerSecond.count, Int((RateWindow.beforeMs + RateWindow.afterMs) / RateWindow.bucketMs))
        // Buckets are 50 ms: 5 completions each, 100/s; the outage's 8 buckets are empty.
        let bucketAt = { (t: Double) in Int((t - r.fromMs) / r.bucketMs) }
        XCTAssertEqual(r.opsPerSecond[bucketAt(-500)], 100)
        XCTAssertEqual(r.opsPerSecond[bucketAt(150)], 100)
        XCTAssertEqual((bucketAt(200)..<bucketAt(600)).map { r.opsPerSecond[$0] }, Array(repeating: 0, count: 8))
        XCTAssertEqual(r.opsPerSecond[bucketAt(600)], 100)
    }

    func testKeepsOnlyBucketsThatEndedAndNoneBeforeTheHistoryKept() throws {
        let kill: UInt64 = 10_000 * ms
        // Measured 1 s after the kill: the window stops there instead of drawing zeros after it.
        let early = try XCTUnwrap(RateWindow(completions: completions(kill: kill), kill: kill, now: kill + 1000 * ms))
        XCTAssertEqual(early.opsPerSecond.count, Int((RateWindow.beforeMs + 1000) / RateWindow.bucketMs))
        // History discarded up to 300 ms before the kill: the window starts there, not with empty buckets.
        let kept = completions(kill: kill).filter { $0 >= kill - 300 * ms }
        let short = try XCTUnwrap(RateWindow(completions: kept, kill: kill, now: kill + 5000 * ms))
        XCTAssertEqual(short.fromMs, -300)
        XCTAssertEqual(short.opsPerSecond.first, 100)
        XCTAssertNil(RateWindow(completions: [], kill: kill, now: kill + 5000 * ms))
    }
}

import ChainCore
import XCTest

final class DurationUnitsTests: XCTestCase {
    func testWholeUnitsRoundTowardZero() {
        XCTAssertEqual(Duration.seconds(3).wholeNanoseconds, 3_000_000_000)
        XCTAssertEqual(Duration.seconds(3).wholeMilliseconds, 3000)
        XCTAssertEqual(Duration.microseconds(2500).wholeMilliseconds, 2)
        XCTAssertEqual(Duration.microseconds(2500).wholeNanoseconds, 2_500_000)
        XCTAssertEqual((Duration.seconds(1) + .nanoseconds(999)).wholeNanoseconds, 1_000_000_999)
        XCTAssertEqual(Duration.nanoseconds(999_999).wholeMilliseconds, 0)
        XCTAssertEqual(Duration.zero.wholeNanoseconds, 0)
        XCTAssertEqual(Duration.milliseconds(-1500).wholeMilliseconds, -1500)
        XCTAssertEqual(Duration.nanoseconds(-7).wholeNanoseconds, -7)
    }

    func testHugeDurationsSaturate() {
        XCTAssertEqual(Duration.seconds(Int64.max / 2).wholeNanoseconds, .max)
        XCTAssertEqual(Duration.seconds(Int64.min / 2).wholeNanoseconds, .min)
        XCTAssertEqual(Duration.seconds(Int64.max / 100).wholeMilliseconds, .max)
        XCTAssertEqual(Duration.seconds(9_223_372_036).wholeNanoseconds, 9_223_372_036_000_000_000)
    }
}

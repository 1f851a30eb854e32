import Logging
import XCTest
@testable import ChainServer

final class LogfmtLogHandlerTests: XCTestCase {
    func testMessageFirstThenSortedFieldsThenTheLogger() {
        let line = LogfmtLogHandler.format(millisecondsSinceEpoch: 1_764_895_493_007, level: .notice,
                                           message: "slot move done: 12 slots served by no chain for 96 ms",
                                           fields: ["to": "c5", "from": "c1", "pauseMs": "96"], label: "chainkv.n1")
        XCTAssertEqual(line, #"ts=2025-12-05T00:44:53.007Z level=notice msg="slot move done: 12 slots served by no chain for 96 ms" "#
                       + "from=c1 pauseMs=96 to=c5 logger=chainkv.n1")
        // What scripts/bench-grow and the tests take from a line.
        let fields = Dictionary(line.matches(of: /(\w+)=("[^"]*"|\S+)/).map { (String($0.1), String($0.2)) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(fields["pauseMs"], "96")
        XCTAssertEqual(fields["from"], "c1")
        XCTAssertEqual(fields["level"], "notice")
    }

    func testTimestampsHaveMillisecondsInUTC() {
        XCTAssertEqual(LogfmtLogHandler.timestamp(0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(LogfmtLogHandler.timestamp(1_764_895_493_123), "2025-12-05T00:44:53.123Z")
        XCTAssertEqual(LogfmtLogHandler.timestamp(951_782_400_050), "2000-02-29T00:00:00.050Z")
        XCTAssertEqual(LogfmtLogHandler.timestamp(-5), "1970-01-01T00:00:00.000Z")
    }

    func testValuesAreQuotedOnlyWhenTheyMustBe() {
        XCTAssertEqual(LogfmtLogHandler.value("n1"), "n1")
        XCTAssertEqual(LogfmtLogHandler.value("127.0.0.1:7001"), "127.0.0.1:7001")
        XCTAssertEqual(LogfmtLogHandler.value(""), #""""#)
        XCTAssertEqual(LogfmtLogHandler.value("a b"), #""a b""#)
        XCTAssertEqual(LogfmtLogHandler.value("k=v"), #""k=v""#)
        XCTAssertEqual(LogfmtLogHandler.value(#"say "hi"\"#), #""say \"hi\"\\""#)
        XCTAssertEqual(LogfmtLogHandler.value("two\nlines\tand\r\u{1}"), #""two\nlines\tand\r\u{1}""#)
        XCTAssertEqual(LogfmtLogHandler.value("n1 -> n2"), #""n1 -> n2""#)
        XCTAssertEqual(LogfmtLogHandler.value("été"), "été")
    }

    func testKeysKeepToTheLogfmtAlphabet() {
        XCTAssertEqual(LogfmtLogHandler.key("pauseMs"), "pauseMs")
        XCTAssertEqual(LogfmtLogHandler.key("a b=c\""), "a_b_c_")
        XCTAssertEqual(LogfmtLogHandler.key(""), "_")
    }

    func testEveryLineIsOneLine() {
        let line = LogfmtLogHandler.format(millisecondsSinceEpoch: 0, level: .warning, message: "bad\nframe",
                                           fields: ["error": "x\ny", "list": .array(["a", "b c"])], label: "chainkv.n2")
        XCTAssertFalse(line.contains("\n"), line)
        XCTAssertTrue(line.hasPrefix(#"ts=1970-01-01T00:00:00.000Z level=warning msg="bad\nframe" error="x\ny" list="#), line)
    }
}

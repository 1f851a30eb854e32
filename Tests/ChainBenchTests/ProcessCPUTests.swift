import XCTest
@testable import ChainBench

final class ProcessCPUTests: XCTestCase {
    /// Fields 1-17 of a stat line: utime (14) 321 and stime (15) 123; cutime/cstime (16, 17) 7 and 9 must not count.
    private func line(comm: String) -> String {
        "4242 (\(comm)) S 1 4242 4242 0 -1 4194560 2000 0 5 0 321 123 7 9 20 0 9 0 500 123456789 4000 18446744073709551615\n"
    }

    func testUtimePlusStime() {
        XCTAssertEqual(ProcessCPU.ticks(statText: line(comm: "chainkv-server")), 444)
    }

    func testCommWithSpacesAndParentheses() {
        XCTAssertEqual(ProcessCPU.ticks(statText: line(comm: "a b) 1 2 3 (x")), 444)
        XCTAssertEqual(ProcessCPU.ticks(statText: line(comm: ") ) S 99 99")), 444)
        XCTAssertEqual(ProcessCPU.ticks(statText: line(comm: "")), 444)
    }

    func testRejectsWhatIsNotAStatLine() {
        XCTAssertNil(ProcessCPU.ticks(statText: ""))
        XCTAssertNil(ProcessCPU.ticks(statText: "4242 S 1 4242 4242 0 -1 4194560 2000 0 5 0 321 123 7 9"), "no comm")
        XCTAssertNil(ProcessCPU.ticks(statText: "4242 (x) S 1 4242 4242 0 -1 4194560 2000 0 5 0 321"), "no stime")
        XCTAssertNil(ProcessCPU.ticks(statText: "4242 (x) S 1 4242 4242 0 -1 4194560 2000 0 5 0 3x1 123 7 9"), "utime not a number")
        XCTAssertNil(ProcessCPU.ticks(statText: "4242 (x) S 1 4242 4242 0 -1 4194560 2000 0 5 0 -1 123 7 9"), "negative")
    }

    func testReadsThisProcess() throws {
        #if os(Linux)
        let pid = Int(getpid())
        let text = try XCTUnwrap(ProcessCPU.readSmallFile("/proc/\(pid)/stat"))
        XCTAssertTrue(text.hasPrefix("\(pid) ("))
        XCTAssertNotNil(ProcessCPU.ticks(pid: pid))
        #endif
        XCTAssertNil(ProcessCPU.ticks(pid: 0))
        XCTAssertNil(ProcessCPU.ticks(pid: -1))
    }
}

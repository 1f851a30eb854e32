import XCTest
@testable import ChainBench

final class ProcessMemoryTests: XCTestCase {
    func testResidentPagesIsTheSecondField() {
        XCTAssertEqual(ProcessMemory.residentPages(statmText: "52342 1934 1200 310 0 4410 0\n"), 1934)
    }

    func testRejectsWhatIsNotAStatmLine() {
        XCTAssertNil(ProcessMemory.residentPages(statmText: ""))
        XCTAssertNil(ProcessMemory.residentPages(statmText: "52342"))
        XCTAssertNil(ProcessMemory.residentPages(statmText: "52342 -4 1200"))
        XCTAssertNil(ProcessMemory.residentPages(statmText: "52342 1x4 1200"))
    }

    func testReadsThisProcess() throws {
        #if os(Linux)
        let bytes = try XCTUnwrap(ProcessMemory.residentBytes())
        // A test process holds at least a megabyte and (on this machine) far less than 64 GB.
        XCTAssertGreaterThan(bytes, 1 << 20)
        XCTAssertLessThan(bytes, 64 << 30)
        XCTAssertEqual(bytes % UInt64(ProcessMemory.pageSize), 0)
        #else
        throw XCTSkip("/proc is Linux only")
        #endif
    }
}

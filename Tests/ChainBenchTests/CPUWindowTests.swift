import XCTest
@testable import ChainBench

final class CPUWindowTests: XCTestCase {
    func testMicrosPerOp() {
        // 150 ticks at 100 per second = 1.5 s over 30,000 operations.
        XCTAssertEqual(CPUWindow.microsPerOp(ticks: 150, ticksPerSecond: 100, operations: 30_000)!, 50, accuracy: 1e-9)
        XCTAssertEqual(CPUWindow.microsPerOp(ticks: 150, ticksPerSecond: 1000, operations: 30_000)!, 5, accuracy: 1e-9)
        XCTAssertEqual(CPUWindow.microsPerOp(micros: 2_500_000, operations: 10_000)!, 250, accuracy: 1e-9)
        XCTAssertNil(CPUWindow.microsPerOp(ticks: 150, ticksPerSecond: 100, operations: 0))
        XCTAssertNil(CPUWindow.microsPerOp(micros: 1, operations: 0))
    }

    func testSumsTheServersOverTheWindow() {
        let start = CPUSnapshot(serverTicks: [10: 100, 20: 50, 30: 7], clientMicros: 1_000_000)
        let end = CPUSnapshot(serverTicks: [10: 250, 20: 80, 30: 7], clientMicros: 1_600_000)
        let w = CPUWindow(from: start, to: end, pids: [10, 20, 30], operations: 3000, ticksPerSecond: 100)
        // 150 + 30 + 0 ticks = 1.8 s over 3000 operations; the client 0.6 s.
        XCTAssertEqual(w.serverMicrosPerOp!, 600, accuracy: 1e-9)
        XCTAssertEqual(w.clientMicrosPerOp!, 200, accuracy: 1e-9)
        XCTAssertEqual(w.serverSeconds, [10: 1.5, 20: 0.3, 30: 0])
        XCTAssertEqual(w.clientSeconds, 0.6, accuracy: 1e-9)
        XCTAssertEqual(w.unreadable, [])
    }

    func testAServerUnreadableAtEitherEndLeavesNoServerFigure() {
        let start = CPUSnapshot(serverTicks: [10: 100, 20: 50], clientMicros: 0)
        let gone = CPUSnapshot(serverTicks: [10: 200], clientMicros: 400_000)
        let w = CPUWindow(from: start, to: gone, pids: [10, 20], operations: 1000, ticksPerSecond: 100)
        XCTAssertNil(w.serverMicrosPerOp)
        XCTAssertEqual(w.unreadable, [20])
        XCTAssertEqual(w.serverSeconds, [10: 1.0])
        XCTAssertEqual(w.clientMicrosPerOp!, 400, accuracy: 1e-9)

        let late = CPUWindow(from: CPUSnapshot(serverTicks: [10: 100], clientMicros: 0),
                             to: CPUSnapshot(serverTicks: [10: 200, 20: 60], clientMicros: 0),
                             pids: [10, 20], operations: 1000, ticksPerSecond: 100)
        XCTAssertNil(late.serverMicrosPerOp)
        XCTAssertEqual(late.unreadable, [20])
    }

    func testACounterGoingBackwardsIsAnotherProcess() {
        let w = CPUWindow(from: CPUSnapshot(serverTicks: [10: 500], clientMicros: 0),
                          to: CPUSnapshot(serverTicks: [10: 3], clientMicros: 0),
                          pids: [10], operations: 1000, ticksPerSecond: 100)
        XCTAssertNil(w.serverMicrosPerOp)
        XCTAssertEqual(w.unreadable, [10])
    }

    func testNoPidsOrNoOperations() {
        let s = CPUSnapshot(serverTicks: [:], clientMicros: 0)
        let e = CPUSnapshot(serverTicks: [:], clientMicros: 1000)
        let none = CPUWindow(from: s, to: e, pids: [], operations: 10, ticksPerSecond: 100)
        XCTAssertNil(none.serverMicrosPerOp)
        XCTAssertEqual(none.clientMicrosPerOp!, 100, accuracy: 1e-9)
        let idle = CPUWindow(from: CPUSnapshot(serverTicks: [1: 0], clientMicros: 0), to: CPUSnapshot(serverTicks: [1: 5], clientMicros: 9),
                             pids: [1], operations: 0, ticksPerSecond: 100)
        XCTAssertNil(idle.serverMicrosPerOp)
        XCTAssertNil(idle.clientMicrosPerOp)
    }

    func testPidList() throws {
        XCTAssertEqual(try PidList.parse("12,345, 678"), [12, 345, 678])
        XCTAssertEqual(try PidList.parse("7"), [7])
        for bad in ["", " , ", "0", "-5", "12,x", "1.5", "12,,12", "99999999999"] {
            XCTAssertThrowsError(try PidList.parse(bad), bad)
        }
        XCTAssertEqual(try PidList.parse((1...64).map(String.init).joined(separator: ",")).count, 64)
        XCTAssertThrowsError(try PidList.parse((1...65).map(String.init).joined(separator: ",")))
    }
}

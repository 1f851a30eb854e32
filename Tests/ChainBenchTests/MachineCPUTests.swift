import XCTest
@testable import ChainBench

final class MachineCPUTests: XCTestCase {
    /// The first lines of a 2-core machine's /proc/stat: user nice system idle iowait irq softirq
    /// steal guest guest_nice. Busy: 100 + 5 + 40 + 3 + 2 + 10 = 160 (guest is inside user).
    private let stat = "cpu  100 5 40 800 50 3 2 10 7 0\ncpu0 50 2 20 400 25 1 1 5 3 0\ncpu1 50 3 20 400 25 2 1 5 4 0\nintr 1 2 3\n"

    func testBusyIsAllButIdleAndIowait() throws {
        let ticks = try XCTUnwrap(MachineTicks(procStat: stat))
        XCTAssertEqual(ticks, MachineTicks(busy: 160, total: 1010))
    }

    func testRejectsWhatIsNotTheCPULine() {
        XCTAssertNil(MachineTicks(procStat: ""))
        XCTAssertNil(MachineTicks(procStat: "cpu0 50 2 20 400 25 1 1 5 3 0\n"), "a single core's line")
        XCTAssertNil(MachineTicks(procStat: "cpu  100 5 40 800\n"), "too few fields")
        XCTAssertNil(MachineTicks(procStat: "cpu  100 5 x 800 50 3 2 10 7 0\n"), "not a number")
        XCTAssertNil(MachineTicks(procStat: "cpu  100 5 -40 800 50 3 2 10 7 0\n"), "negative")
    }

    func testBusyCoresOverAWindow() throws {
        let start = MachineTicks(busy: 1000, total: 5000)
        // 150 of 200 ticks busy on 2 cores: 1.5 cores.
        let end = MachineTicks(busy: 1150, total: 5200)
        XCTAssertEqual(try XCTUnwrap(MachineTicks.busyCores(from: start, to: end, cores: 2)), 1.5, accuracy: 1e-9)
        XCTAssertNil(MachineTicks.busyCores(from: start, to: start, cores: 2), "no time passed")
        XCTAssertNil(MachineTicks.busyCores(from: end, to: start, cores: 2), "counters went backwards")
    }

    func testTheWindowCarriesTheMachineFigure() {
        let start = CPUSnapshot(serverTicks: [10: 100], clientMicros: 0, machine: MachineTicks(busy: 0, total: 1000))
        let end = CPUSnapshot(serverTicks: [10: 200], clientMicros: 0, machine: MachineTicks(busy: 900, total: 2000))
        let w = CPUWindow(from: start, to: end, pids: [10], operations: 100, ticksPerSecond: 100, cores: 2)
        XCTAssertEqual(try XCTUnwrap(w.machineBusyCores), 1.8, accuracy: 1e-9)
        let unread = CPUWindow(from: CPUSnapshot(serverTicks: [10: 100], clientMicros: 0), to: end, pids: [10], operations: 100,
                               ticksPerSecond: 100, cores: 2)
        XCTAssertNil(unread.machineBusyCores)
    }

    func testReadsThisMachine() throws {
        #if os(Linux)
        let a = try XCTUnwrap(MachineTicks.now())
        XCTAssertLessThanOrEqual(a.busy, a.total)
        XCTAssertGreaterThan(a.total, 0)
        XCTAssertGreaterThanOrEqual(MachineTicks.onlineCores, 1)
        #endif
    }
}

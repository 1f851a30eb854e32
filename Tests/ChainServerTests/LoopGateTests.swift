import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest
@testable import ChainServer

/// `LoopGate`: work from other threads reaches the loop until the gate closes, and none after.
final class LoopGateTests: XCTestCase {
    /// Waits up to 5 s for `condition`.
    private func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while !condition() {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return true
    }

    func testWorkFromOtherThreadsRunsOnTheLoopWhileTheGateIsOpen() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let gate = LoopGate(loop: group.next())
        let ran = NIOLockedValueBox<[Bool]>([])  // each item: whether it ran on the loop
        DispatchQueue.concurrentPerform(iterations: 100) { _ in
            gate.execute { ran.withLockedValue { $0.append(gate.loop.inEventLoop) } }
        }
        XCTAssertTrue(eventually { ran.withLockedValue { $0.count } == 100 }, "every item handed over runs")
        XCTAssertEqual(ran.withLockedValue { $0.filter { $0 }.count }, 100, "and runs on the loop")
    }

    /// What a server's stop does: close the gate, then shut the loop down. A dial or a commit
    /// that ends later hands its result to the gate, which drops it (the loop itself would print
    /// an error, or crash under SWIFTNIO_STRICT).
    func testNothingHandedOverAfterCloseRunsNorReachesTheLoopOnceItIsDown() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let gate = LoopGate(loop: group.next())
        let ran = NIOLockedValueBox(0)
        gate.execute { ran.withLockedValue { $0 += 1 } }
        XCTAssertTrue(eventually { ran.withLockedValue { $0 } == 1 })
        XCTAssertTrue(gate.isOpen)
        gate.close()
        XCTAssertFalse(gate.isOpen)
        gate.execute { ran.withLockedValue { $0 += 1 } }
        try group.syncShutdownGracefully()
        for _ in 0..<10 { gate.execute { ran.withLockedValue { $0 += 1 } } }
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(ran.withLockedValue { $0 }, 1, "work handed over after close is dropped")
    }

    /// Close racing with hand-overs from many threads: an item handed over after `close`
    /// returned never runs, and every item handed over while the gate was open throughout runs.
    func testCloseRacingWithHandOversLetsNothingThroughAfterItReturns() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let gate = LoopGate(loop: group.next())
        // `closing` is set before `close` is called and `closed` after it returned: an item whose
        // hand-over ended while `closing` was still false met an open gate, and one started after
        // `closed` was set met a closed one. (A single flag set after `close` returned counted an
        // item dropped in between as "open throughout": CI caught that.)
        let closing = NIOLockedValueBox(false)
        let closed = NIOLockedValueBox(false)
        let counts = NIOLockedValueBox((openThroughout: 0, ranOfOpenAtStart: 0, ranAfterClose: 0))
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for item in 0..<2_000 {
                if worker == 0, item == 500 {
                    closing.withLockedValue { $0 = true }
                    gate.close()
                    closed.withLockedValue { $0 = true }
                }
                if closed.withLockedValue({ $0 }) {
                    gate.execute { counts.withLockedValue { $0.ranAfterClose += 1 } }
                } else {
                    // Close may come during the hand-over, so such an item may or may not run;
                    // one whose hand-over ended before close began must run.
                    gate.execute { counts.withLockedValue { $0.ranOfOpenAtStart += 1 } }
                    if !closing.withLockedValue({ $0 }) { counts.withLockedValue { $0.openThroughout += 1 } }
                }
            }
        }
        XCTAssertTrue(eventually { counts.withLockedValue { $0.ranOfOpenAtStart >= $0.openThroughout } },
                      "every item handed over while the gate was open runs")
        Thread.sleep(forTimeInterval: 0.05)
        let final = counts.withLockedValue { $0 }
        XCTAssertGreaterThan(final.openThroughout, 0)
        XCTAssertEqual(final.ranAfterClose, 0, "an item handed over after close returned never runs")
    }
}

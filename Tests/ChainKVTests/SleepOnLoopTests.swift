@testable import ChainKV
import Foundation
import XCTest

/// `ChainKVClient.sleepOnLoop`: the bench's open loop waits for each request's due time on the
/// client's event-loop timer. It must wait at least as long as asked, and never hang.
final class SleepOnLoopTests: XCTestCase {
    func testWaitsAtLeastTheTimeAskedOnTheClientsExecutor() async throws {
        // No server is needed: the client connects only when a request is made.
        let client = try ChainKVClient(servers: ["127.0.0.1:1"])
        defer { client.beginShutdown() }
        let waited = await sleepOnItsExecutor(client, nanoseconds: 50_000_000)
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(50))
        XCTAssertLessThan(waited, .seconds(5), "the timer fired")
        let none = await sleepOnItsExecutor(client, nanoseconds: 0)
        XCTAssertLessThan(none, .seconds(5), "a zero wait returns")
    }

    /// How long `sleepOnLoop` took in a task running on the client's executor, as the bench's loops do.
    private func sleepOnItsExecutor(_ client: ChainKVClient, nanoseconds: UInt64) async -> Duration {
        await Task(executorPreference: client.taskExecutor) { () -> Duration in
            let clock = ContinuousClock()
            let started = clock.now
            await client.sleepOnLoop(nanoseconds: nanoseconds)
            return clock.now - started
        }.value
    }
}

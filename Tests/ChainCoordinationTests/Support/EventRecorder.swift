import Foundation
import XCTest

/// Consumes an event stream in the background and keeps everything it saw, so a test can wait (with a
/// timeout) for a condition on the events instead of blocking on `next()`.
final class EventRecorder<Event: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Event] = []

    init(_ stream: AsyncStream<Event>) {
        Task {
            for await event in stream {
                self.lock.withLock { self.storage.append(event) }
            }
        }
    }

    var events: [Event] { lock.withLock { storage } }

    /// Waits until `predicate` holds for the events recorded so far; fails the test after `timeout`.
    @discardableResult
    func wait(
        for description: String, timeout: Duration = .seconds(15),
        file: StaticString = #filePath, line: UInt = #line,
        until predicate: ([Event]) -> Bool
    ) async throws -> [Event] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let seen = events
            if predicate(seen) { return seen }
            if clock.now >= deadline {
                XCTFail("timed out waiting for \(description); events: \(seen)", file: file, line: line)
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// Polls an async condition until it holds; fails the test after `timeout`.
func eventually(
    _ description: String, timeout: Duration = .seconds(15),
    file: StaticString = #filePath, line: UInt = #line,
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while try await !condition() {
        if clock.now >= deadline {
            XCTFail("timed out waiting for \(description)", file: file, line: line)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

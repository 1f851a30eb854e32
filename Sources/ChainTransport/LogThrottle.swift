internal import FoundationEssentials
internal import NIOConcurrencyHelpers
package import NIOCore

/// At most one log line per interval for an event that a hostile peer can repeat at will
/// (refused connections, failed authentications), with the number of events since the last line,
/// so a flood cannot fill the disk with logs.
package final class LogThrottle: @unchecked Sendable {
    private let interval: TimeAmount
    private let lock = NIOLock()
    private var since = 0
    private var last = NIODeadline.distantPast

    package init(interval: TimeAmount = .seconds(1)) { self.interval = interval }

    /// Counts one event; returns how many happened since the last line when it is time to log one.
    package func event() -> Int? {
        lock.withLock {
            since += 1
            let now = NIODeadline.now()
            guard now - last >= interval else { return nil }
            last = now
            defer { since = 0 }
            return since
        }
    }
}

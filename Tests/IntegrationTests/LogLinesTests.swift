import Foundation
import XCTest

/// What a server's log says about routine events (issue 19): reconnects to the same successor
/// across epoch changes are not news.
final class LogLinesTests: XCTestCase {
    func testNewEpochsThatKeepTheSuccessorLogNoNewLinkLine() throws {
        let cluster = try ClusterFixture(size: 3)
        defer { cluster.stop() }
        // n3 (the tail) leaves and comes back: two new epochs in which n1's successor stays n2.
        cluster.kill(2)
        try cluster.waitForChain(members: 2)
        try cluster.start(2)
        try cluster.waitForChain(members: 3)
        let lines = cluster.log(0).split(separator: "\n")
        let up = lines.filter { $0.contains("msg=\"link to successor up\"") }
        let again = lines.filter { $0.contains("msg=\"link to successor up again\"") }
        XCTAssertEqual(up.count, 1, "one line for successor n2: \(up)")
        XCTAssertTrue(up.first?.contains("successor=n2") ?? false)
        XCTAssertGreaterThanOrEqual(again.count, 1, "the epochs did reconnect the link (at debug)")
    }
}

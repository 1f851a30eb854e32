import ChainKV
import Foundation
import XCTest

/// What the failure and shard tests check with a client: pairs written, read back, conditions awaited.
extension XCTestCase {
    /// Writes `count` pairs, 50 at a time in flight, and returns what the chain acknowledged.
    func writePairs(_ client: ChainKVClient, prefix: String, count: Int) throws -> [String: [UInt8]] {
        try blockingTest {
            var acked: [String: [UInt8]] = [:]
            for batch in stride(from: 0, to: count, by: 50) {
                try await withThrowingTaskGroup(of: (String, [UInt8]).self) { group in
                    for i in batch..<min(batch + 50, count) {
                        let key = "\(prefix)-\(i)", value = Array("value-\(prefix)-\(i)-\(UInt32.random(in: 0...UInt32.max))".utf8)
                        group.addTask { try await client.put(key, value); return (key, value) }
                    }
                    for try await (k, v) in group { acked[k] = v }
                }
            }
            return acked
        }
    }

    /// Reads every key back and fails the test for any value that differs.
    func assertReadBack(_ client: ChainKVClient, _ expected: [String: [UInt8]], _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let got = try blockingTest {
            try await withThrowingTaskGroup(of: (String, [UInt8]?).self) { group in
                var result: [String: [UInt8]?] = [:]
                var pending = expected.keys.makeIterator()
                var inFlight = 0
                while true {
                    while inFlight < 50, let key = pending.next() {
                        group.addTask { (key, try await client.get(key)) }
                        inFlight += 1
                    }
                    guard let (k, v) = try await group.next() else { break }
                    inFlight -= 1
                    result[k] = v
                }
                return result
            }
        }
        let wrong = expected.filter { got[$0.key] ?? nil != $0.value }
        XCTAssertEqual(wrong.count, 0, "\(what): \(wrong.count) of \(expected.count) acknowledged values do not read back", file: file, line: line)
    }

    func waitFor(_ what: String, timeout: TimeInterval = 30, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return }
            usleep(100_000)
        }
        throw FixtureError("timed out after \(Int(timeout)) s waiting for \(what)")
    }
}

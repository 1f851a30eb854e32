@testable import ChainCore
import ChainTestSupport
import XCTest

final class RequestTableTests: XCTestCase {
    /// Against a model (the ring's entries and a dictionary of each request's newest entry), over
    /// random runs: requests from a small pool (so many are remembered again while an older
    /// entry is still held), forgetting at random, the index growing from 16 slots. Every
    /// request of the pool is looked up after every step.
    func testAgreesWithAModel() {
        for seed in UInt64(1)...10 {
            var rng = SplitMix64(seed: seed)
            var table = RequestTable()
            var entries: [(request: RequestID, seq: UInt64)] = []
            var newest: [RequestID: UInt64] = [:]
            let pool = (0..<UInt64(40 + seed * 10)).map { RequestID(client: $0 % 7, seq: $0) }
            var seq: UInt64 = 0
            for step in 0..<4000 {
                if entries.isEmpty || rng.next() % 3 != 0 {
                    seq += 1 + rng.next() % 3
                    let request = pool[Int(rng.next() % UInt64(pool.count))]
                    table.remember(request, seq: seq)
                    entries.append((request, seq))
                    newest[request] = seq
                } else {
                    let gone = table.forgetOldest()
                    let expected = entries.removeFirst()
                    XCTAssertEqual(gone.request, expected.request)
                    XCTAssertEqual(gone.seq, expected.seq)
                    if newest[expected.request] == expected.seq { newest[expected.request] = nil }
                }
                for request in pool where table.seq(of: request) != newest[request] {
                    return XCTFail("seed \(seed), step \(step): \(request) → \(String(describing: table.seq(of: request))), model \(String(describing: newest[request]))")
                }
                XCTAssertEqual(table.count, newest.count, "seed \(seed), step \(step)")
                XCTAssertEqual(table.order.count, entries.count)
                XCTAssertLessThanOrEqual(2 * table.count, table.slotCapacity, "the index stays at most half full")
            }
        }
    }

    /// A request remembered again answers with its newest write, also after its older entry left.
    func testARequestRememberedAgainAnswersWithItsNewestWrite() {
        var table = RequestTable()
        let r = RequestID(client: 1, seq: 1), other = RequestID(client: 2, seq: 1)
        table.remember(r, seq: 10)
        table.remember(other, seq: 11)
        table.remember(r, seq: 12)
        XCTAssertEqual(table.seq(of: r), 12)
        XCTAssertEqual(table.count, 2)
        table.forgetOldest()  // r's first entry: superseded, the request stays
        XCTAssertEqual(table.seq(of: r), 12)
        table.forgetOldest()
        XCTAssertNil(table.seq(of: other))
        table.forgetOldest()
        XCTAssertNil(table.seq(of: r))
        XCTAssertEqual(table.count, 0)
    }

    /// Positions wrap at 2^32 without confusing entries; a window turned over many times keeps
    /// its index's size.
    func testPositionsWrapAndTheIndexKeepsItsSize() {
        var table = RequestTable(firstPosition: UInt32.max - 1000)
        for n in UInt64(1)...200_000 {
            table.remember(RequestID(client: n % 13, seq: n), seq: n)
            if table.order.count > 8 { table.forgetOldest() }
            if n == 1500 {  // past the wrap
                for m in UInt64(1493)...1500 { XCTAssertEqual(table.seq(of: RequestID(client: m % 13, seq: m)), m) }
            }
        }
        for n in UInt64(199_993)...200_000 { XCTAssertEqual(table.seq(of: RequestID(client: n % 13, seq: n)), n) }
        XCTAssertNil(table.seq(of: RequestID(client: 199_992 % 13, seq: 199_992)))
        XCTAssertEqual(table.count, 8)
        XCTAssertLessThanOrEqual(table.slotCapacity, 32)
    }
}

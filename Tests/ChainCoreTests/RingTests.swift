import XCTest
@testable import ChainCore

/// The core's FIFO (`Ring`): order across the wrap, growth and shrinking, and a bounded user's
/// storage staying at its bound.
final class RingTests: XCTestCase {
    func testFirstInFirstOutAcrossTheWrap() {
        var ring = Ring<Int>()
        var model: [Int] = []
        var next = 0
        // Appends and removals interleaved so the start moves round the storage many times.
        for step in 0..<10_000 {
            let appends = step % 3 == 0 ? 3 : 1
            for _ in 0..<appends {
                ring.append(next)
                model.append(next)
                next += 1
            }
            if step % 2 == 0, !model.isEmpty { XCTAssertEqual(ring.removeFirst(), model.removeFirst()) }
            XCTAssertEqual(ring.count, model.count)
            XCTAssertEqual(ring.first, model.first)
            XCTAssertEqual(ring.last, model.last)
        }
        XCTAssertEqual((0..<ring.count).map { ring[offset: $0] }, model)
        var seen: [Int] = []
        ring.forEach { seen.append($0) }
        XCTAssertEqual(seen, model)
        ring[offset: 2] += 1000
        XCTAssertEqual(ring[offset: 2], model[2] + 1000)
    }

    func testABoundedUserThatRemovesFirstKeepsItsBound() {
        var ring = Ring<UInt64>()
        let bound = 4096
        for seq in 0..<UInt64(10 * bound) {
            if ring.count == bound { _ = ring.removeFirst() }
            ring.append(seq)
        }
        XCTAssertEqual(ring.count, bound)
        XCTAssertEqual(ring.capacity, bound, "exactly the bound: no dead prefix, no doubling past it")
        XCTAssertEqual(ring.first, UInt64(9 * bound))
    }

    func testShrinkGivesBackStorageAndKeepsOrder() {
        var ring = Ring<Int>()
        for i in 0..<100_000 { ring.append(i) }
        for _ in 0..<99_000 { _ = ring.removeFirst() }
        XCTAssertEqual(ring.capacity, 131_072)
        ring.shrink()
        XCTAssertEqual(ring.capacity, 1024)
        XCTAssertEqual(ring.first, 99_000)
        XCTAssertEqual(ring.last, 99_999)
        ring.append(100_000)
        XCTAssertEqual(ring.count, 1001)
        ring.removeAll()
        XCTAssertTrue(ring.isEmpty)
        XCTAssertNil(ring.first)
        XCTAssertEqual(ring.capacity, 0)
    }

    func testRemovedElementsAreReleased() {
        final class Box {}
        var ring = Ring<Box>()
        weak var gone: Box?
        do {
            let box = Box()
            gone = box
            ring.append(box)
        }
        ring.append(Box())
        _ = ring.removeFirst()
        XCTAssertNil(gone, "a removed element is not kept alive by its slot")
    }

    /// The replica's remembered requests stay within their window's storage (they were a ring
    /// twice, and after the array doubled four times, that size).
    func testRememberedRequestsKeepTheirBound() {
        var r = Replica(id: "a", lastSeq: 0, view: ChainView(epoch: 1, members: ["a"]))
        let window = CoreLimits.requestsRememberedMax
        for n in 1...UInt64(window + 5000) {
            _ = r.on(.clientWrite(ClientRef(connection: 1, request: n), key: "k", value: [1], stored: nil,
                                  request: RequestID(client: 7, seq: n)))
            if n % 1024 == 0 { _ = r.on(.persisted(through: n)) }
        }
        XCTAssertEqual(r.requests.order.count, window)
        XCTAssertEqual(r.requests.order.capacity, window)
        XCTAssertEqual(r.requests.count, window)
        XCTAssertEqual(r.requests.slotCapacity, 2 * window, "the index: at most half full")
        XCTAssertEqual(r.valueOrder.count, 1, "one key, cached once however often it was written")
    }
}

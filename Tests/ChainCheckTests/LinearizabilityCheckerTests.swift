import XCTest
@testable import ChainCheck

final class LinearizabilityCheckerTests: XCTestCase {
    private func verdict(_ h: HistoryBuilder, initial: [String: [UInt8]] = [:]) -> CheckResult.Verdict {
        LinearizabilityChecker.check(h.operations, initial: initial).verdict
    }

    // MARK: linearizable histories

    func testEmptyHistoryIsLinearizable() {
        let result = LinearizabilityChecker.check([])
        XCTAssertEqual(result.verdict, .linearizable)
        XCTAssertTrue(result.keys.isEmpty)
    }

    func testSequentialHistory() {
        let h = HistoryBuilder()
        h.get(1, nil, 0, 1)
        h.put(1, "a", old: nil, 2, 3)
        h.get(2, "a", 4, 5)
        h.put(2, "b", old: "a", 6, 7)
        h.delete(1, existed: true, 8, 9)
        h.get(1, nil, 10, 11)
        h.delete(2, existed: false, 12, 13)
        XCTAssertEqual(verdict(h), .linearizable)
    }

    func testConcurrentPutsInEitherOrder() {
        // Both orders are possible; the reported old values say which one happened.
        let aFirst = HistoryBuilder()
        aFirst.put(1, "a", old: nil, 0, 10)
        aFirst.put(2, "b", old: "a", 1, 9)
        aFirst.get(3, "b", 11, 12)
        XCTAssertEqual(verdict(aFirst), .linearizable)

        let bFirst = HistoryBuilder()
        bFirst.put(1, "a", old: "b", 0, 10)
        bFirst.put(2, "b", old: nil, 1, 9)
        bFirst.get(3, "a", 11, 12)
        XCTAssertEqual(verdict(bFirst), .linearizable)
    }

    func testGetConcurrentWithPutSeesEitherValue() {
        for seen in ["a", "b"] {
            let h = HistoryBuilder()
            h.put(1, "a", old: nil, 0, 1)
            h.put(1, "b", old: "a", 2, 10)
            h.get(2, seen, 3, 8)
            XCTAssertEqual(verdict(h), .linearizable, "get saw \(seen)")
        }
    }

    func testOperationsTouchingAtOneInstantAreConcurrent() {
        // The put completes at 5 and the get starts at 5: the get may still precede the put.
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 5)
        h.get(2, nil, 5, 6)
        XCTAssertEqual(verdict(h), .linearizable)
    }

    func testUnknownPutThatHappened() {
        let h = HistoryBuilder()
        h.putUnknown(1, "a", 0)
        h.get(2, "a", 10, 11)
        XCTAssertEqual(verdict(h), .linearizable)
    }

    func testUnknownPutThatNeverHappened() {
        let h = HistoryBuilder()
        h.putUnknown(1, "a", 0)
        h.get(2, nil, 10, 11)
        h.put(2, "b", old: nil, 12, 13)
        XCTAssertEqual(verdict(h), .linearizable)
    }

    func testUnknownPutTakesEffectLate() {
        // A put that timed out at 2 still lands after a later read saw the key absent.
        let h = HistoryBuilder()
        h.putUnknown(1, "a", 0, 2)
        h.get(2, nil, 10, 11)
        h.get(2, "a", 12, 13)
        XCTAssertEqual(verdict(h), .linearizable)
    }

    func testKnownPutWithoutCompletionIsTreatedAsUnknown() {
        let h = HistoryBuilder()
        h.put(1, "a", old: "zzz", 0, nil)  // the reported old value is ignored: never seen
        h.get(2, "a", 10, 11)
        XCTAssertEqual(verdict(h), .linearizable)
    }

    func testUnknownDelete() {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 1)
        h.deleteUnknown(1, 2)
        h.get(2, "a", 3, 4)
        h.get(2, nil, 5, 6)
        XCTAssertEqual(verdict(h), .linearizable)
    }

    func testInitialValues() {
        let h = HistoryBuilder()
        h.get(1, "seed", 0, 1)
        XCTAssertEqual(verdict(h, initial: ["k": bytes("seed")]), .linearizable)
        XCTAssertEqual(verdict(h), .notLinearizable)
    }

    // MARK: histories that are not linearizable

    func testStaleRead() {
        let h = HistoryBuilder()
        h.put(1, "v1", old: nil, 0, 1)
        h.put(1, "v2", old: "v1", 2, 3)
        h.get(2, "v1", 4, 5)
        XCTAssertEqual(verdict(h), .notLinearizable)
    }

    func testReadOfValueNeverWritten() {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 1)
        h.get(2, "ghost", 2, 3)
        XCTAssertEqual(verdict(h), .notLinearizable)
    }

    func testPutReportingWrongOldValue() {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 1)
        h.put(2, "b", old: "c", 2, 3)
        XCTAssertEqual(verdict(h), .notLinearizable)
    }

    func testLostWrite() {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 1)
        h.put(1, "b", old: "a", 2, 3)  // acknowledged...
        h.get(2, "b", 4, 5)
        h.get(3, "a", 6, 7)  // ...then gone
        XCTAssertEqual(verdict(h), .notLinearizable)
    }

    func testDeleteReportsMissingWhileKeyExists() {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 1)
        h.delete(2, existed: false, 2, 3)
        XCTAssertEqual(verdict(h), .notLinearizable)
    }

    func testConcurrentPutsCannotBothSeeAbsent() {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 10)
        h.put(2, "b", old: nil, 1, 9)
        XCTAssertEqual(verdict(h), .notLinearizable)
    }

    func testUnknownPutCannotTakeEffectBeforeItsInvocation() {
        let h = HistoryBuilder()
        h.get(2, "a", 0, 1)
        h.putUnknown(1, "a", 5)
        XCTAssertEqual(verdict(h), .notLinearizable)
    }

    // MARK: keys, budget, scale

    func testKeysAreCheckedSeparately() {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 1, key: "good")
        h.get(2, "a", 2, 3, key: "good")
        h.put(1, "a", old: nil, 0, 1, key: "bad")
        h.get(2, "b", 2, 3, key: "bad")
        h.get(3, nil, 0, 5, key: "other")
        let result = LinearizabilityChecker.check(h.operations)
        XCTAssertEqual(result.verdict, .notLinearizable)
        XCTAssertEqual(result.keys.map(\.key), ["bad", "good", "other"])
        XCTAssertEqual(result["good"]?.verdict, .linearizable)
        XCTAssertEqual(result["other"]?.verdict, .linearizable)
        XCTAssertEqual(result["bad"]?.verdict, .notLinearizable)
        XCTAssertEqual(result.failingKeys, ["bad"])
        XCTAssertNotNil(result["bad"]?.window)
        XCTAssertNil(result["good"]?.window)
    }

    /// Many concurrent reads, then a read of a value nobody wrote: to refute it, the search must
    /// try every subset of the reads (the memo cannot tell the orders apart sooner), 2^reads.
    private func hardHistory(reads: Int) -> [Operation] {
        let h = HistoryBuilder()
        for i in 0..<reads { h.get(i, nil, UInt64(i), 100) }
        h.get(reads, "never written", 200, 201)
        return h.operations
    }

    func testSearchBudgetGivesUnknown() {
        let started = ContinuousClock.now
        let result = LinearizabilityChecker.check(hardHistory(reads: 40), maxStepsPerKey: 100_000)
        XCTAssertEqual(result.verdict, .unknown)
        XCTAssertEqual(result["k"]?.steps, 100_000)
        XCTAssertNil(result["k"]?.window)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(30))
    }

    func testTimeLimitGivesUnknown() {
        let started = ContinuousClock.now
        let result = LinearizabilityChecker.check(hardHistory(reads: 40), timeLimit: .milliseconds(200),
                                                  maxStepsPerKey: .max)
        XCTAssertEqual(result.verdict, .unknown)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(30))
    }

    func testSmallBudgetIsEnoughForEasyKeys() {
        var history = hardHistory(reads: 40)
        history.append(Operation(id: 1000, client: 1, key: "easy", kind: .get(value: nil), invoke: 0, complete: 1))
        let result = LinearizabilityChecker.check(history, maxStepsPerKey: 10_000)
        XCTAssertEqual(result["easy"]?.verdict, .linearizable)
        XCTAssertEqual(result["k"]?.verdict, .unknown)
        XCTAssertEqual(result.verdict, .unknown)
    }

    func testHardButSmallHistoryIsDecided() {
        XCTAssertEqual(LinearizabilityChecker.check(hardHistory(reads: 10)).verdict, .notLinearizable)
    }

    func testAgreesWithBruteForceOnRandomSmallHistories() {
        var counts: [CheckResult.Verdict: Int] = [:]
        for seed in 0..<3000 as Range<UInt64> {
            let ops = RandomHistory.arbitrary(operations: 3 + Int(seed % 5), clients: 3, seed: seed)
            let expected = BruteForce.isLinearizable(KeyHistory(key: "k", operations: ops, initial: nil).whole)
            let got = LinearizabilityChecker.check(ops).verdict
            counts[got, default: 0] += 1
            XCTAssertEqual(got, expected ? .linearizable : .notLinearizable, "seed \(seed): \(ops)")
            if got != (expected ? .linearizable : .notLinearizable) { break }
        }
        // Both outcomes must be well represented, or the comparison proves little.
        XCTAssertGreaterThan(counts[.linearizable, default: 0], 300)
        XCTAssertGreaterThan(counts[.notLinearizable, default: 0], 300)
    }

    func testRandomLinearizableHistories() {
        for seed in 0..<20 as Range<UInt64> {
            let ops = RandomHistory.linearizable(operations: 300, clients: 6, values: 3, unknownPercent: 5, seed: seed)
            XCTAssertEqual(LinearizabilityChecker.check(ops).verdict, .linearizable, "seed \(seed)")
        }
    }

    /// 20 keys of 2,000 operations, each key with 10 concurrent clients. The time this takes in
    /// release builds is a figure worth watching, but it is not asserted (benchmarks are programs).
    func testLargeLinearizableHistory() {
        var history: [Operation] = []
        for key in 0..<20 {
            history += RandomHistory.linearizable(key: "key\(key)", operations: 2000, clients: 10, values: 0,
                                                  unknownPercent: 1, seed: UInt64(key), firstId: key * 10_000)
        }
        let result = LinearizabilityChecker.check(history)
        XCTAssertEqual(result.verdict, .linearizable)
        XCTAssertEqual(result.keys.count, 20)
        XCTAssertEqual(result.keys.reduce(0) { $0 + $1.operationCount }, 40_000)
    }

    func testLargeHistoryWithOneStaleRead() throws {
        // 2% of the operations have unknown outcomes (half of them took effect).
        var history = RandomHistory.linearizable(key: "k", operations: 2000, clients: 10, unknownPercent: 2, seed: 99)
        // Turn a read from the middle that saw a value into one that saw an older value.
        let reads = history.indices.filter {
            if case .get(let value?) = history[$0].kind, history[$0].invoke > 5000 { return value != bytes("v1") }
            return false
        }
        let victim = reads[reads.count / 2]
        history[victim].kind = .get(value: bytes("v1"))
        let result = LinearizabilityChecker.check(history)
        XCTAssertEqual(result.verdict, .notLinearizable)
        let window = try XCTUnwrap(result["k"]?.window)
        XCTAssertTrue(window.operations.contains { $0.id == history[victim].id })
        XCTAssertLessThan(window.operations.count, 50)
    }
}

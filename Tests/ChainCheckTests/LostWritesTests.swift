@testable import ChainCheck
import XCTest

final class LostWritesTests: XCTestCase {
    func testAWriteReadBackOrOverwrittenIsNotLost() {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 10)
        h.get(2, "a", 20, 30)
        h.put(3, "b", old: "a", 40, 50)
        h.get(2, "b", 60, 70)
        XCTAssertEqual(LostWrites.count(h.operations, finals: ["k": bytes("b")]), 0)
    }

    func testAReadAfterTheAckSeeingAnOlderValueIsALostWrite() {
        // Seed 26's symptom: acknowledged, then a later read saw what the key held before.
        let h = HistoryBuilder()
        h.put(1, "old", old: nil, 0, 10)
        h.put(1, "new", old: "old", 20, 30)
        h.get(2, "old", 40, 50)
        h.put(3, "later", old: "old", 60, 70)
        XCTAssertEqual(LostWrites.count(h.operations, finals: ["k": bytes("later")]), 1,
                       "the final value alone would hide it: a later write overwrote the key")
    }

    func testAValueFromAConcurrentOrUnknownWriteIsNoContradiction() {
        let h = HistoryBuilder()
        h.put(1, "a", old: nil, 0, 30)
        h.putUnknown(2, "b", 5)
        h.get(3, "b", 40, 50)
        h.put(4, "c", old: nil, 20, 35)  // overlaps "a": may be ordered after it
        h.get(3, "c", 60, 70)
        XCTAssertEqual(LostWrites.count(h.operations, finals: ["k": bytes("c")]), 0)
    }

    func testAFinalReadOfAbsentAfterAnAckedPutIsLostUnlessADeleteCouldFollow() {
        var absent: [String: [UInt8]?] = [:]
        absent["k"] = .some(nil)  // read after the run: the key does not exist
        let overlapping = HistoryBuilder()
        overlapping.put(1, "a", old: nil, 0, 10)
        overlapping.delete(2, existed: false, 0, 5)  // overlaps the put: it may be ordered after it
        XCTAssertEqual(LostWrites.count(overlapping.operations, finals: absent), 0)
        let h = HistoryBuilder()
        h.delete(2, existed: false, 0, 5)
        h.put(1, "a", old: nil, 10, 20)
        XCTAssertEqual(LostWrites.count(h.operations, finals: absent), 1, "the delete finished before the put began")
        XCTAssertEqual(LostWrites.count(h.operations, finals: [:]), 0, "no final read: nothing contradicts the put")
    }

    /// The fast count agrees with the definition, computed directly, on random histories.
    func testAgreesWithTheDirectDefinitionOnRandomHistories() {
        func direct(_ ops: [Operation], final: [UInt8]??) -> Int {
            var lost = 0
            for w in ops {
                guard let wrote = LostWrites.writtenValue(w), let done = w.complete else { continue }
                var seen: [[UInt8]?] = ops.compactMap { r in
                    guard case .get(let v) = r.kind, r.complete != nil, r.invoke > done else { return nil }
                    return .some(v)
                }
                if let final { seen.append(final) }
                let contradicted = seen.contains { value in
                    value != wrote && !ops.contains { o in
                        o.id != w.id && LostWrites.writtenValue(o) == .some(value) && (o.complete ?? .max) > w.invoke
                    }
                }
                if contradicted { lost += 1 }
            }
            return lost
        }
        var contradictions = 0
        for seed in UInt64(1)...300 {
            let ops = RandomHistory.arbitrary(operations: 12, clients: 3, seed: seed)
            let finals: [[UInt8]??] = [nil, .some(nil), .some(bytes("a"))]
            let final = finals[Int(seed % 3)]
            let expected = direct(ops, final: final)
            contradictions += expected
            XCTAssertEqual(LostWrites.count(ops, final: final), expected, "seed \(seed)")
        }
        XCTAssertGreaterThan(contradictions, 50, "the random histories exercise the contradicted case")
    }
}

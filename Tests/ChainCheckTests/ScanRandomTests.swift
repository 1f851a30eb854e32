import XCTest
@testable import ChainCheck

/// Random multi-key histories with scans, made by a sequential store: no false alarm from either
/// check when each page is read at one instant; the single-instant check catches pages read key by
/// key at different instants, which the per-key check cannot.
final class ScanRandomTests: XCTestCase {
    /// Clients run puts, deletes (some of unknown outcome) and scans of all `keys` against a
    /// sequential store; every operation takes effect at a point inside its interval, a scan at
    /// one point (or, with `torn`, each key at its own point), in the order of those points.
    static func history(seed: UInt64, torn: Bool, keys: [String] = ["a", "b", "c"], count: Int = 120) -> [Operation] {
        var random = SplitMixRandom(state: seed)
        struct Planned { var op: Operation; var points: [UInt64]; var takesEffect: Bool }
        var clock = [UInt64](repeating: 0, count: 4)
        var planned: [Planned] = []
        for index in 0..<count {
            let client = clock.indices.min { clock[$0] < clock[$1] }!
            let invoke = clock[client] + UInt64(random.below(3))
            let span = 2 + UInt64(random.below(20))
            let complete = invoke + span
            clock[client] = complete
            func point() -> UInt64 { invoke + 1 + UInt64(random.below(Int(span - 1))) }
            let key = keys[random.below(keys.count)]
            let dice = random.below(100)
            let unknown = random.chance(10)
            if dice < 30 {
                let one = point()
                let points = keys.map { _ in torn ? point() : one }
                planned.append(Planned(op: Operation(id: index, client: client, key: "", kind: .get(value: nil), invoke: invoke,
                                                     complete: complete, page: index), points: points, takesEffect: true))
            } else {
                let kind: Operation.Kind = dice < 75 ? .put(value: bytes("v\(index)"), old: nil) : .delete(existed: false)
                planned.append(Planned(op: Operation(id: index, client: client, key: key, kind: kind, invoke: invoke,
                                                     complete: unknown ? nil : complete),
                                       points: [point()], takesEffect: !unknown || random.chance(50)))
            }
        }
        // Apply every (operation, key) effect in point order; ties in plan order.
        var steps: [(point: UInt64, plan: Int, part: Int)] = []
        for (i, p) in planned.enumerated() { for (j, t) in p.points.enumerated() { steps.append((t, i, j)) } }
        steps.sort { ($0.point, $0.plan, $0.part) < ($1.point, $1.plan, $1.part) }
        // A write of unknown outcome keeps its recorded kind (without a completion the checks
        // normalize it to an unknown put or delete), whether or not it took effect.
        var store: [String: [UInt8]] = [:]
        var history: [Operation] = []
        for step in steps {
            var op = planned[step.plan].op
            if op.page != nil {
                op.key = keys[step.part]
                op.kind = .get(value: store[op.key])
                op.id = op.id * 10 + step.part
            } else if planned[step.plan].takesEffect {
                if case .put(let value, _) = op.kind {
                    op.kind = .put(value: value, old: store[op.key])
                    store[op.key] = value
                } else {
                    op.kind = .delete(existed: store[op.key] != nil)
                    store[op.key] = nil
                }
            }
            history.append(op)
        }
        return history
    }

    func testPagesReadAtOneInstantPass() {
        for seed in UInt64(1)...60 {
            let h = Self.history(seed: seed, torn: false)
            XCTAssertEqual(ScanSnapshots.check(h), [], "seed \(seed)")
            XCTAssertEqual(LinearizabilityChecker.check(h).verdict, .linearizable, "seed \(seed)")
        }
    }

    func testTornPagesPassPerKeyAndSomeFailTheSingleInstantCheck() {
        var caught = 0
        for seed in UInt64(1)...60 {
            let h = Self.history(seed: seed, torn: true)
            XCTAssertEqual(LinearizabilityChecker.check(h).verdict, .linearizable, "seed \(seed)")
            caught += ScanSnapshots.check(h).isEmpty ? 0 : 1
        }
        XCTAssertGreaterThan(caught, 0)
    }
}

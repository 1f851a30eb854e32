@testable import ChainCheck
import ChainTestSupport

/// A small deterministic generator, so every random test is reproducible from its seed: the
/// shared SplitMix64 with the two draws these tests need.
struct SplitMixRandom {
    private var generator: SplitMix64

    init(state: UInt64) { generator = SplitMix64(seed: state) }

    mutating func next() -> UInt64 { generator.next() }

    /// Uniform in 0..<n.
    mutating func below(_ n: Int) -> Int {
        Int(next() % UInt64(n))
    }

    mutating func chance(_ percent: Int) -> Bool {
        below(100) < percent
    }
}

enum RandomHistory {
    /// A linearizable history of one key, made by running clients against a sequential store.
    ///
    /// Each client runs one operation at a time. An operation takes effect at a point strictly
    /// inside its interval; the store applies operations in the order of those points and each
    /// reports what the store gave it, so the points are a linearization. Unknown-outcome writes
    /// take effect at their point or (half of them) never.
    ///
    /// - values: how many distinct values puts write (few values make the search work harder,
    ///   since more orders explain the same results); 0 means every put writes a fresh value.
    static func linearizable(key: String = "k", operations count: Int, clients: Int, values: Int = 0,
                             unknownPercent: Int = 0, seed: UInt64, firstId: Int = 1) -> [Operation] {
        var random = SplitMixRandom(state: seed)
        struct Planned {
            var op: Operation
            var point: UInt64
            var takesEffect: Bool
        }
        var clock = [UInt64](repeating: 0, count: clients)
        var planned: [Planned] = []
        var fresh = 0
        for index in 0..<count {
            // The client that is free first starts the next operation, as concurrent clients do.
            let client = clock.indices.min { clock[$0] < clock[$1] }!
            let invoke = clock[client] + UInt64(random.below(3))
            let point = invoke + 1 + UInt64(random.below(10))
            let complete = point + 1 + UInt64(random.below(10))
            clock[client] = complete
            let unknown = random.chance(unknownPercent)
            let kind: Operation.Kind
            let dice = random.below(100)
            func value() -> [UInt8] {
                fresh += 1
                return bytes(values == 0 ? "v\(fresh)" : "v\(random.below(values))")
            }
            if dice < 40 {
                kind = unknown ? .putUnknown(value: value()) : .get(value: nil)
            } else if dice < 85 {
                kind = unknown ? .putUnknown(value: value()) : .put(value: value(), old: nil)
            } else {
                kind = unknown ? .deleteUnknown : .delete(existed: false)
            }
            // Times are scaled by the client count and offset by the client, so no two clients
            // share a point and the order of points is the order the store applies them.
            let scale = UInt64(clients), offset = UInt64(client)
            let op = Operation(id: firstId + index, client: client, key: key, kind: kind,
                               invoke: invoke * scale + offset, complete: unknown ? nil : complete * scale + offset)
            planned.append(Planned(op: op, point: point * scale + offset, takesEffect: !unknown || random.chance(50)))
        }
        var value: [UInt8]?
        for index in planned.indices.sorted(by: { planned[$0].point < planned[$1].point }) {
            guard planned[index].takesEffect else { continue }
            switch planned[index].op.kind {
            case .get: planned[index].op.kind = .get(value: value)
            case .put(let written, _):
                planned[index].op.kind = .put(value: written, old: value)
                value = written
            case .delete:
                planned[index].op.kind = .delete(existed: value != nil)
                value = nil
            case .putUnknown(let written): value = written
            case .deleteUnknown: value = nil
            }
        }
        return planned.map(\.op).sorted { $0.invoke < $1.invoke }
    }

    /// A small history of one key with arbitrary results: some linearizable, most not.
    static func arbitrary(operations count: Int, clients: Int, seed: UInt64) -> [Operation] {
        var random = SplitMixRandom(state: seed)
        let values: [[UInt8]?] = [nil, bytes("a"), bytes("b")]
        var clock = [UInt64](repeating: 0, count: clients)
        var ops: [Operation] = []
        for id in 1...count {
            let client = random.below(clients)
            let invoke = clock[client] + UInt64(random.below(4))
            let complete = invoke + UInt64(random.below(6))
            clock[client] = complete + 1
            let known = !random.chance(15)
            let kind: Operation.Kind
            switch random.below(3) {
            case 0: kind = known ? .get(value: values[random.below(3)]) : .putUnknown(value: values[1 + random.below(2)]!)
            case 1: kind = known ? .put(value: values[1 + random.below(2)]!, old: values[random.below(3)])
                                 : .putUnknown(value: values[1 + random.below(2)]!)
            default: kind = known ? .delete(existed: random.chance(50)) : .deleteUnknown
            }
            ops.append(Operation(id: id, client: client, key: "k", kind: kind, invoke: invoke, complete: known ? complete : nil))
        }
        return ops
    }
}

/// An independent, exponential linearizability check for tiny searches: tries every order that
/// respects real time. Unknown-outcome operations may be left out at will; optional ones may be
/// left out, but if placed, must be placed by their completion.
enum BruteForce {
    static func isLinearizable(_ problem: SearchProblem) -> Bool {
        let starts: [Int32]
        switch problem.start {
        case .exactly(let value): starts = [value]
        case .oneOf(let members, _): starts = members.indices.filter { members[$0] }.map { Int32($0) }
        }
        return starts.contains { search(problem.operations, done: [], state: $0) }
    }

    private static func search(_ ops: [TimedOperation], done: Set<Int>, state: Int32) -> Bool {
        let mustDo = ops.indices.filter { !done.contains($0) && ops[$0].complete != nil && !ops[$0].optional }
        if mustDo.isEmpty { return true }
        for k in ops.indices where !done.contains(k) {
            // Operations not yet placed that completed before k was invoked must come before k:
            // so k cannot go next if one is required, and optional ones are left out.
            let before = ops.indices.filter { j in
                j != k && !done.contains(j) && (ops[j].complete.map { $0 < ops[k].invoke } ?? false)
            }
            if before.contains(where: { !ops[$0].optional }) { continue }
            var next: Int32?
            switch ops[k].op {
            case .get(let value): next = state == value ? state : nil
            case .put(let value, let old): next = state == old ? value : nil
            case .delete(let existed): next = (state != 0) == existed ? 0 : nil
            case .write(let value): next = value
            case .erase: next = 0
            }
            if let next, search(ops, done: done.union(before).union([k]), state: next) { return true }
        }
        return false
    }
}

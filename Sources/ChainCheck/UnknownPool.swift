/// The unknown-outcome operations of a search, which the search does not walk over but draws on
/// when a known operation needs one (see `LinearizationSearch`).
///
/// Operations with the same effect are interchangeable once invoked, so they form a chain in
/// invocation order and only the first unused one of a chain is ever used: the used ones of a
/// chain are always a prefix of it.
///
/// Writes of a value no known operation needs (no get saw it, no put replaced it) are
/// interchangeable too, whatever their values: such a write can only be followed by a delete that
/// found the key. They form one more chain, the anonymous one. And since an anonymous write can
/// do nothing another write cannot, a delete that found the key only uses another write when no
/// anonymous one is available (`LinearizationSearch.tryCall`).
struct UnknownPool {
    /// Operation indices with one effect (or anonymous writes), in invocation order.
    private let chains: [[Int]]
    private var usedCounts: [Int]
    private let chainWithEffect: [Int32: Int]
    /// The chains a delete that found the key can use: the anonymous chain first, if any, then
    /// the chains of writes of needed values.
    private let writeChains: [Int]
    /// The chain of anonymous writes, if any.
    let anonymousChain: Int?
    /// For each operation, its position in the used set (-1: not an unknown-outcome operation).
    let usedIndex: [Int32]
    let count: Int

    init(_ ops: [TimedOperation]) {
        var needed = Set<Int32>()
        for op in ops {
            switch op.op {
            case .get(let value), .put(_, let value): needed.insert(value)
            case .delete, .write, .erase: break
            }
        }
        var chains: [[Int]] = []
        var chainWithEffect: [Int32: Int] = [:]
        var anonymous: [Int] = []
        let unknown = ops.indices.filter { ops[$0].op.isUnknown }.sorted { (ops[$0].invoke, $0) < (ops[$1].invoke, $1) }
        var usedIndex = [Int32](repeating: -1, count: ops.count)
        for (position, k) in unknown.enumerated() {
            usedIndex[k] = Int32(position)
            let effect = ops[k].op.effect!
            if effect != ModelState.absent && !needed.contains(effect) {
                anonymous.append(k)
            } else if let chain = chainWithEffect[effect] {
                chains[chain].append(k)
            } else {
                chainWithEffect[effect] = chains.count
                chains.append([k])
            }
        }
        var writeChains = chainWithEffect.filter { $0.key != ModelState.absent }.map(\.value).sorted()
        if !anonymous.isEmpty {
            anonymousChain = chains.count
            writeChains.insert(chains.count, at: 0)
            chains.append(anonymous)
        } else {
            anonymousChain = nil
        }
        self.chains = chains
        self.usedCounts = [Int](repeating: 0, count: chains.count)
        self.chainWithEffect = chainWithEffect
        self.writeChains = writeChains
        self.usedIndex = usedIndex
        self.count = unknown.count
    }

    /// How many chains could make `op` legal when it is not legal in the current state: those
    /// whose effect is the value it needs (a get or put), or any write (a delete that found the
    /// key), or a delete (a delete that did not).
    func helperCount(for op: ModelOperation) -> Int {
        switch op {
        case .get(let value), .put(_, let value): return chainWithEffect[value] == nil ? 0 : 1
        case .delete(existed: true): return writeChains.count
        case .delete(existed: false): return chainWithEffect[ModelState.absent] == nil ? 0 : 1
        case .write, .erase: return 0
        }
    }

    /// The `i`th of those chains.
    func helperChain(for op: ModelOperation, _ i: Int) -> Int {
        switch op {
        case .get(let value), .put(_, let value): return chainWithEffect[value]!
        case .delete(existed: true): return writeChains[i]
        case .delete(existed: false): return chainWithEffect[ModelState.absent]!
        case .write, .erase: preconditionFailure("unknown-outcome operations need no help")
        }
    }

    /// The first unused operation of a chain, if any.
    func next(inChain chain: Int) -> Int? {
        usedCounts[chain] < chains[chain].count ? chains[chain][usedCounts[chain]] : nil
    }

    mutating func use(chain: Int) {
        precondition(usedCounts[chain] < chains[chain].count, "chain used up")
        usedCounts[chain] += 1
    }

    /// Undoes the latest `use` of the chain.
    mutating func unuse(chain: Int) -> Int {
        precondition(usedCounts[chain] > 0, "nothing to undo")
        usedCounts[chain] -= 1
        return chains[chain][usedCounts[chain]]
    }
}

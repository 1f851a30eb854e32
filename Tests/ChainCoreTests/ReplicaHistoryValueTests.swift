import XCTest
@testable import ChainCore
import ChainTestSupport

/// The value index (`Replica.keyStates`, cached values): a replica answers a key's stored value from the
/// newest committed change of a recently written key, kept within the index's own bounds
/// (`valueCacheBytesMax`, the last `recentMax` key changes), and asks the shell to read storage
/// only for other keys. These tests fail if the index goes stale: a key evicted from it,
/// rewritten, deleted, after a snapshot's reset or a restart. The shell passes `stored`
/// only when `needsStoredValue(for:)` says so; here it passes a wrong value otherwise (`junk`), so
/// a core that used it would show.
final class ReplicaHistoryValueTests: XCTestCase {
    let view = ChainView(epoch: 1, members: ["a", "b", "c"])
    let junk = VersionedValue(Array("junk".utf8), version: 999_999)
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    func vv(_ s: String, _ version: UInt64) -> VersionedValue { VersionedValue(bytes(s), version: version) }

    /// The tail of `view`: it commits what it has fsynced.
    func tail(lastSeq: UInt64 = 0) -> Replica {
        var r = Replica(id: "c", lastSeq: lastSeq)
        _ = r.on(.viewChanged(view))
        return r
    }

    /// Feeds `update` to the tail as the shell would (storage read only when the core asks, a
    /// wrong value otherwise), commits it, and returns the outcome the tail stored with it.
    @discardableResult
    func commit(_ r: inout Replica, _ update: Update, storage: VersionedValue? = nil) -> WriteOutcome? {
        let stored = r.needsStoredValue(for: update.key) ? storage : junk
        let actions = r.on(.forward(from: "b", epoch: 1, update, stored: stored))
        _ = r.on(.persisted(through: update.seq))
        for case .persist(_, let outcome) in actions { return outcome }
        XCTFail("update \(update.seq) was not persisted")
        return nil
    }

    func put(_ seq: UInt64, _ key: String, _ value: [UInt8], _ client: UInt64 = 1) -> Update {
        Update(seq: seq, key: key, value: value, request: RequestID(client: client, seq: seq))
    }

    func testACommittedChangeAnswersTheKeysStoredValue() {
        var c = tail()
        XCTAssertTrue(c.needsStoredValue(for: "k"))
        XCTAssertEqual(commit(&c, put(1, "k", bytes("A")), storage: vv("S", 0))?.reply, .put(old: bytes("S"), version: 1),
                       "a key the history does not know is read from storage")
        XCTAssertFalse(c.needsStoredValue(for: "k"), "its committed change is in the history")
        XCTAssertTrue(c.needsStoredValue(for: "other"))
        XCTAssertEqual(commit(&c, put(2, "k", bytes("B")))?.reply, .put(old: bytes("A"), version: 2))
        // A delete: the history knows the key is absent.
        XCTAssertEqual(commit(&c, Update(seq: 3, key: "k", value: nil, request: RequestID(client: 1, seq: 3)))?.reply,
                       .delete(existed: true, version: 3))
        XCTAssertFalse(c.needsStoredValue(for: "k"))
        XCTAssertEqual(commit(&c, put(4, "k", bytes("C")))?.reply, .put(old: nil, version: 4))
        // A failed condition and a barrier change no key: the newest change is still seq 4.
        commit(&c, Update(seq: 5, key: "k", value: nil, request: RequestID(client: 1, seq: 5), conditionFailed: 4))
        commit(&c, Update(seq: 6, key: "", value: nil, move: .barrier(MoveBarrier(slots: [0...1], from: "c1", after: 1))))
        XCTAssertEqual(commit(&c, put(7, "k", bytes("D")))?.reply, .put(old: bytes("C"), version: 7),
                       "the version is the seq of the key's last change, not of the update that changed nothing")
    }

    /// Keys compare by bytes, as in storage: a canonically equivalent key is another key.
    func testKeysCompareByBytes() {
        var c = tail()
        commit(&c, put(1, "\u{E9}", bytes("A")))
        XCTAssertFalse(c.needsStoredValue(for: "\u{E9}"))
        XCTAssertTrue(c.needsStoredValue(for: "e\u{301}"))
        XCTAssertEqual(commit(&c, put(2, "e\u{301}", bytes("B")), storage: nil)?.reply, .put(old: nil, version: 2))
    }

    /// Key `k` written once, pushed out of the value cache by other writes (by bytes), then written
    /// again: while out, its value comes from storage; once rewritten, from memory again.
    func testAKeyEvictedFromTheIndexIsReadFromStorageUntilRewritten() {
        var c = tail()
        commit(&c, put(1, "k", bytes("A")))
        let big = [UInt8](repeating: 7, count: CoreLimits.valueCacheBytesMax / 4)
        var seq: UInt64 = 1
        while c.cachedValue(ByteKey("k")) != nil, seq < 10 {
            seq += 1
            commit(&c, put(seq, "filler\(seq)", big))
        }
        XCTAssertLessThan(seq, 10, "four big updates push the first out")
        XCTAssertTrue(c.needsStoredValue(for: "k"), "evicted: storage holds its value")
        seq += 1
        XCTAssertEqual(commit(&c, put(seq, "k", bytes("B")), storage: vv("A", 1))?.reply, .put(old: bytes("A"), version: seq))
        XCTAssertFalse(c.needsStoredValue(for: "k"))
        seq += 1
        XCTAssertEqual(commit(&c, put(seq, "k", bytes("C")))?.reply, .put(old: bytes("B"), version: seq))
    }

    /// A key unchanged for `recentMax` commits leaves the cache (its value is read from storage
    /// again), while a key rewritten meanwhile stays: what the cache holds is the recent keys,
    /// not every key ever written up to the byte bound.
    func testAKeyUnchangedForTheWindowLeavesTheCache() {
        var c = tail()
        let n = UInt64(CoreLimits.recentMax)
        commit(&c, put(1, "cold", bytes("C")))
        commit(&c, put(2, "hot", bytes("H")))
        // Other keys' changes, and "hot" again halfway.
        for seq in 3...n {
            let key = seq == n / 2 ? "hot" : "other\(seq % 100)"
            _ = c.on(.forward(from: "b", epoch: 1, Update(seq: seq, key: key, value: [1]), stored: nil))
        }
        _ = c.on(.persisted(through: n))
        XCTAssertFalse(c.needsStoredValue(for: "cold"), "changed \(n - 1) commits ago: still within the window")
        commit(&c, put(n + 1, "x", [2]))
        XCTAssertTrue(c.needsStoredValue(for: "cold"), "its change is now recentMax commits old")
        commit(&c, put(n + 2, "y", [2]))
        XCTAssertFalse(c.needsStoredValue(for: "hot"), "recorded at seq 2, rewritten at \(n / 2): recorded again")
        XCTAssertEqual(c.valueOrder.count, c.valueOrderSeqs.count)
        XCTAssertEqual(c.valueOrder.count, c.cachedKeyCount, "one record per cached key")
        XCTAssertEqual(commit(&c, put(n + 3, "cold", bytes("D")), storage: vv("C", 1))?.reply, .put(old: bytes("C"), version: n + 3))
    }

    /// A rewrite changes a cached value in place: the key keeps its place in the eviction order
    /// (the key cached first leaves first), and its next write after that reads storage.
    func testARewriteKeepsTheKeysPlaceInTheCache() {
        var c = tail()
        let kValue = [UInt8](repeating: 2, count: 600)
        commit(&c, put(1, "k", bytes("A")))
        commit(&c, put(2, "other", bytes("O")))
        commit(&c, put(3, "k", kValue))
        XCTAssertEqual(c.valueOrder.count, 2)
        XCTAssertEqual(c.valueOrder.first?.key, "k", "k was cached first; its rewrite did not move it")
        // Four of these overflow the cache by less than k's 600 bytes: k alone leaves.
        let big = [UInt8](repeating: 7, count: CoreLimits.valueCacheBytesMax / 4 - 150)
        var seq: UInt64 = 3
        while c.cachedValue(ByteKey("k")) != nil, seq < 10 {
            seq += 1
            commit(&c, put(seq, "filler\(seq)", big))
        }
        XCTAssertTrue(c.needsStoredValue(for: "k"), "evicted: storage holds its value")
        XCTAssertFalse(c.needsStoredValue(for: "other"), "the key cached after k is still cached when k leaves")
        XCTAssertEqual(c.valueOrder.first?.key, "other")
    }

    /// The values outlive the history: a key whose only update left the history (by bytes) is
    /// still answered from memory while the value cache holds it; the history no longer answers a
    /// retry of that write (it goes to disk), but the value needs no storage read.
    func testTheValueCacheOutlivesTheHistory() {
        var c = tail()
        commit(&c, put(1, "k", bytes("A")))
        // Failed conditions fill the history by count but change no key: k stays the cache's.
        let n = UInt64(CoreLimits.recentMax) + 1
        for seq in 2...n {
            _ = c.on(.forward(from: "b", epoch: 1, Update(seq: seq, key: "f", value: nil, conditionFailed: 0), stored: nil))
        }
        _ = c.on(.persisted(through: n))
        XCTAssertGreaterThan(c.recent.first!.seq, 1, "k's update left the history")
        XCTAssertNil(c.historyReply(seq: 1))
        XCTAssertLessThan(c.valueBytes, CoreLimits.valueCacheBytesMax)
        XCTAssertFalse(c.needsStoredValue(for: "k"), "its value is still kept")
        XCTAssertEqual(commit(&c, put(n + 1, "k", bytes("B")))?.reply, .put(old: bytes("A"), version: n + 1))
    }

    /// Evicting an older change of a key must not drop the newer one still in the history.
    func testEvictingAnOlderChangeKeepsTheNewerOne() {
        var c = tail()
        let half = [UInt8](repeating: 1, count: CoreLimits.recentBytesMax / 2)
        commit(&c, put(1, "k", half))
        commit(&c, put(2, "k", bytes("B")))
        commit(&c, put(3, "filler", half))  // over the byte bound: seq 1 leaves the history
        XCTAssertEqual(c.recent.first?.seq, 2, "only the first update left")
        XCTAssertFalse(c.needsStoredValue(for: "k"), "seq 2 is still the key's newest change, in the history")
        XCTAssertEqual(commit(&c, put(4, "k", bytes("C")))?.reply, .put(old: bytes("B"), version: 4))
        // And a delete evicted the same way.
        commit(&c, Update(seq: 5, key: "d", value: half))
        commit(&c, Update(seq: 6, key: "d", value: nil))
        commit(&c, put(7, "filler", half))
        XCTAssertFalse(c.needsStoredValue(for: "d"))
        XCTAssertEqual(commit(&c, put(8, "d", bytes("x")))?.reply, .put(old: nil, version: 8))
    }

    /// The count bound (keys) evicts too, the key cached first leaving first: the index follows
    /// exactly, and rewriting a cached key adds no record.
    func testTheCountBoundEvictsFromTheIndex() {
        var c = tail()
        let n = UInt64(CoreLimits.recentMax)
        for seq in 1...n { _ = c.on(.forward(from: "b", epoch: 1, Update(seq: seq, key: "k\(seq % 1000)", value: [1]), stored: nil)) }
        _ = c.on(.persisted(through: n))
        XCTAssertEqual(c.cachedKeyCount, 1000)
        XCTAssertEqual(c.valueOrder.count, 1000, "65,536 writes of 1,000 keys: one record per key")
        XCTAssertEqual(c.cachedValue(ByteKey("k1"))?.seq, (1...n).last { $0 % 1000 == 1 })
        // One more update pushes seq 1 out of the history; the cache has room: k1 stays.
        commit(&c, put(n + 1, "x", [2]))
        XCTAssertEqual(c.recent.first?.seq, 2)
        XCTAssertEqual(c.cachedKeyCount, 1001)
        XCTAssertFalse(c.needsStoredValue(for: "k1"))
        // Single writes of their key leave with them.
        var d = tail()
        for seq in 1...n { _ = d.on(.forward(from: "b", epoch: 1, Update(seq: seq, key: "k\(seq)", value: [1]), stored: nil)) }
        _ = d.on(.persisted(through: n))
        commit(&d, put(n + 1, "x", [2]))
        XCTAssertTrue(d.needsStoredValue(for: "k1"), "k1's only change left the history")
        XCTAssertFalse(d.needsStoredValue(for: "k2"))
        XCTAssertEqual(d.cachedKeyCount, Int(n))
        XCTAssertEqual(d.valueOrder.count, Int(n), "one record per cached key")
        XCTAssertEqual(d.valueOrder.capacity, CoreLimits.recentMax, "the records keep their bound")
    }

    /// Only committed updates enter the index; while a write is in flight the pending state
    /// answers, and the committed value for reads is the history's.
    func testInFlightWritesDoNotEnterTheIndex() {
        var c = tail()
        _ = c.on(.forward(from: "b", epoch: 1, put(1, "k", bytes("A")), stored: nil))
        XCTAssertNil(c.cachedValue(ByteKey("k")), "not committed yet")
        XCTAssertFalse(c.needsStoredValue(for: "k"), "in flight: the pending state answers")
        _ = c.on(.persisted(through: 1))
        XCTAssertEqual(c.cachedValue(ByteKey("k"))?.seq, 1)
    }

    /// A snapshot's reset empties storage: the history no longer says what it holds.
    func testStorageReplacedForgetsTheIndex() {
        var c = tail()
        commit(&c, put(1, "k", bytes("A")))
        c.storageReplaced()
        XCTAssertTrue(c.needsStoredValue(for: "k"))
        XCTAssertEqual(c.cachedKeyCount, 0)
    }

    /// A key's state (`keyStates`) holds its writes in flight and its cached value, and goes when
    /// it holds neither: the table never grows past the cache and the writes in flight.
    func testAKeysStateGoesWithItsLastPart() {
        var c = tail()
        // A failed condition on a key nobody wrote lately commits without caching anything.
        commit(&c, Update(seq: 1, key: "cond", value: nil, request: RequestID(client: 1, seq: 1), conditionFailed: 0),
               storage: vv("S", 0))
        XCTAssertNil(c.keyStates[ByteKey("cond")], "nothing in flight, nothing cached: no state")
        XCTAssertTrue(c.needsStoredValue(for: "cond"))
        // A write in flight while its key's cached value is evicted: the pending part stays.
        commit(&c, put(2, "k", bytes("A")))
        _ = c.on(.forward(from: "b", epoch: 1, put(3, "k", bytes("B")), stored: junk))
        let big = [UInt8](repeating: 7, count: CoreLimits.valueCacheBytesMax / 2)
        _ = c.on(.forward(from: "b", epoch: 1, Update(seq: 4, key: "big1", value: big), stored: nil))
        _ = c.on(.forward(from: "b", epoch: 1, Update(seq: 5, key: "big2", value: big), stored: nil))
        _ = c.on(.persisted(through: 2))
        XCTAssertNotNil(c.keyStates[ByteKey("k")]?.pending, "seq 3 is in flight")
        _ = c.on(.persisted(through: 5))
        XCTAssertNil(c.keyStates[ByteKey("k")], "k's change was evicted by the big values and nothing is in flight")
        XCTAssertTrue(c.needsStoredValue(for: "k"))
        XCTAssertEqual(c.keyStates.count, c.cachedKeyCount, "every state left holds a cached value")
        XCTAssertEqual(commit(&c, put(6, "k", bytes("C")), storage: vv("B", 3))?.reply, .put(old: bytes("B"), version: 6))
    }

    /// A snapshot's reset forgets the cached values but not the writes in flight: a key written
    /// meanwhile still answers from its pending state, and is cached once it commits.
    func testStorageReplacedKeepsWritesInFlight() {
        var c = tail()
        commit(&c, put(1, "k", bytes("A")))
        _ = c.on(.forward(from: "b", epoch: 1, put(2, "k", bytes("B")), stored: junk))
        c.storageReplaced()
        XCTAssertFalse(c.needsStoredValue(for: "k"), "a write of k is in flight")
        XCTAssertEqual(c.keyStates[ByteKey("k")]?.pending?.latest, vv("B", 2))
        _ = c.on(.persisted(through: 2))
        XCTAssertEqual(c.cachedValue(ByteKey("k"))?.seq, 2)
        XCTAssertEqual(commit(&c, put(3, "k", bytes("C")))?.reply, .put(old: bytes("B"), version: 3))
    }

    /// A restarted core (after a crash or a snapshot) has no history: everything comes from storage.
    func testARestartedCoreReadsStorage() {
        var c = tail()
        commit(&c, put(1, "k", bytes("A")))
        var restarted = Replica(id: "c", lastSeq: 1, view: view)
        XCTAssertTrue(restarted.needsStoredValue(for: "k"))
        XCTAssertEqual(commit(&restarted, put(2, "k", bytes("B")), storage: vv("S", 1))?.reply, .put(old: bytes("S"), version: 2))
    }

    /// After failover the new head answers reads and conditional writes from the history.
    func testANewHeadReadsAndChecksConditionsFromTheHistory() {
        var b = Replica(id: "b", lastSeq: 0)
        _ = b.on(.viewChanged(view))
        _ = b.on(.successorLinkUp("c"))
        _ = b.on(.ack(from: "c", epoch: 1, seq: 0))
        _ = b.on(.forward(from: "a", epoch: 1, put(1, "k", bytes("A")), stored: nil))
        _ = b.on(.persisted(through: 1))
        _ = b.on(.ack(from: "c", epoch: 1, seq: 1))
        XCTAssertFalse(b.needsStoredValue(for: "k"))
        _ = b.on(.viewChanged(ChainView(epoch: 2, members: ["b", "c"])))
        _ = b.on(.lease(until: 1000))
        _ = b.on(.successorLinkUp("c"))
        _ = b.on(.ack(from: "c", epoch: 2, seq: 1))
        XCTAssertEqual(b.read("k", stored: junk, now: 1), .value(vv("A", 1)))
        let client = ClientRef(connection: 1, request: 1)
        XCTAssertEqual(b.on(.clientWrite(client, key: "k", value: bytes("B"), stored: junk, request: nil, ifVersion: 1)),
                       [.forward(to: "c", epoch: 2, Update(seq: 2, key: "k", value: bytes("B"))),
                        .persist(Update(seq: 2, key: "k", value: bytes("B")))],
                       "the condition holds against the history's version")
    }

    /// A random chain run: every node's storage is modelled, the shell rule applied (storage read
    /// only when the core asks), values large enough that keys leave the history and come back,
    /// and a head failure half way. Every replica stores the same outcome for every write, equal to
    /// the model's, and reads at the head (old and new) return the model's committed value.
    func testRandomRunsKeepEveryReplicaIdenticalToTheModel() {
        for seed in 1...6 { randomRun(seed: UInt64(seed)) }
    }

    private struct Node {
        var core: Replica
        var storage: [ByteKey: VersionedValue] = [:]
        var queued: [Update] = []
        /// Every update handed to storage, in order.
        var log: [Update] = []
        var outcomes: [UInt64: WriteOutcome] = [:]
    }

    private func randomRun(seed: UInt64) {
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15)  // the runs as first written
        var nodes: [NodeID: Node] = [:]
        for id in view.members { nodes[id] = Node(core: Replica(id: id, lastSeq: 0)) }
        var current = view
        var messages: [(to: NodeID, event: ReplicaEvent)] = []
        let keys = (0..<12).map { "key\($0)" }

        func deliver(_ id: NodeID, _ event: ReplicaEvent) {
            // Taken out of the dictionary while it changes: a copy would copy its history each time.
            guard var node = nodes.removeValue(forKey: id) else { return }
            var event = event
            if case .forward(let from, let epoch, let update, _, _) = event {
                event = .forward(from: from, epoch: epoch, update,
                                 stored: node.core.needsStoredValue(for: update.key) ? node.storage[ByteKey(update.key)] : junk)
            }
            for action in node.core.on(event) {
                switch action {
                case .forward(let to, let epoch, let update): messages.append((to, .forward(from: id, epoch: epoch, update, stored: nil)))
                case .ack(let to, let epoch, let seq): messages.append((to, .ack(from: id, epoch: epoch, seq: seq)))
                case .persist(let update, let outcome):
                    node.queued.append(update)
                    node.log.append(update)
                    if let outcome { node.outcomes[update.seq] = outcome }
                case .connectSuccessor(let s?):
                    messages.append((s, .predecessorLink(id, up: true)))
                    messages.append((id, .successorLinkUp(s)))
                default: break
                }
            }
            nodes[id] = node
        }
        func fsync(_ id: NodeID) {
            guard nodes[id]?.queued.isEmpty == false, var node = nodes.removeValue(forKey: id), let last = node.queued.last else { return }
            for u in node.queued where u.changesKey { node.storage[ByteKey(u.key)] = u.value.map { VersionedValue($0, version: u.seq) } }
            node.queued = []
            nodes[id] = node
            deliver(id, .persisted(through: last.seq))
        }
        func drain() {
            while !messages.isEmpty {
                let (to, event) = messages.removeFirst()
                deliver(to, event)
                if rng.next() % 3 == 0 { fsync(to) }
            }
        }
        func settle() {
            for _ in 0..<4 {
                for id in current.members { fsync(id) }
                drain()
            }
        }
        for id in view.members { deliver(id, .viewChanged(view)) }
        deliver("a", .lease(until: 1_000_000))
        drain()

        var request: UInt64 = 0
        for step in 0..<400 {
            if step == 200 {
                // The head fails with writes in flight: b takes over with whatever it holds.
                nodes["a"] = nil
                current = ChainView(epoch: 2, members: ["b", "c"])
                for id in current.members { deliver(id, .viewChanged(current)) }
                deliver("b", .lease(until: 1_000_000))
                drain()
            }
            let head = current.head!
            let key = keys[Int(rng.next() % UInt64(keys.count))]
            let roll = rng.next() % 10
            let size = rng.next() % 8 == 0 ? CoreLimits.recentBytesMax / 6 : Int(rng.next() % 16)
            let value: [UInt8]? = roll < 2 ? nil : [UInt8](repeating: UInt8(truncatingIfNeeded: step), count: size)
            request += 1
            let core = nodes[head]!.core
            let stored = core.needsStoredValue(for: key) ? nodes[head]!.storage[ByteKey(key)] : junk
            // A conditional write now and then, against the key's version or a wrong one.
            let ifVersion: UInt64? = roll == 9 ? (rng.next() % 2 == 0 ? Self.model(nodes["c"]!).state[key].version : 1) : nil
            deliver(head, .clientWrite(ClientRef(connection: 1, request: request), key: key, value: value, stored: stored,
                                       request: RequestID(client: seed, seq: request), ifVersion: ifVersion))
            drain()
            for id in current.members where rng.next() % 2 == 0 { fsync(id) }
            drain()
            if step % 25 == 24 || step == 199 {
                settle()
                XCTAssertEqual(nodes[head]!.core.inflightCount, 0, "seed \(seed) step \(step): everything committed")
                let state = Self.model(nodes["c"]!).state
                for k in keys {
                    let core = nodes[head]!.core
                    let stored = core.needsStoredValue(for: k) ? nodes[head]!.storage[ByteKey(k)] : junk
                    XCTAssertEqual(core.read(k, stored: stored, now: 1), .value(state[k]), "seed \(seed) step \(step) key \(k)")
                }
            }
        }
        settle()
        let expected = Self.model(nodes["c"]!).replies
        XCTAssertGreaterThan(expected.count, 300, "seed \(seed): most writes were committed")
        for id in current.members {
            let node = nodes[id]!
            XCTAssertEqual(node.core.stable, node.core.received, "seed \(seed) node \(id): everything committed")
            XCTAssertGreaterThan(node.core.recent.first?.seq ?? 0, 1, "seed \(seed): keys left the history")
            XCTAssertEqual(node.outcomes.count, expected.count, "seed \(seed) node \(id)")
            for (seq, outcome) in expected where node.outcomes[seq] != outcome {
                XCTFail("seed \(seed) node \(id) seq \(seq): \(String(describing: node.outcomes[seq])), the model's \(outcome)")
            }
        }
    }

    /// The model: the tail's log (the chain's history, in seq order) applied to an empty map, with
    /// the reply each write must have (computed from the whole log, not from any history window).
    private static func model(_ tail: Node) -> (state: [String: VersionedValue], replies: [UInt64: WriteOutcome]) {
        var state: [String: VersionedValue] = [:]
        var replies: [UInt64: WriteOutcome] = [:]
        for u in tail.log {
            let old = state[u.key]
            if let current = u.conditionFailed {
                replies[u.seq] = WriteOutcome(reply: .conditionFailed(current: current), seq: u.seq, request: u.request!)
                XCTAssertEqual(current, old.version, "a failed condition reports the key's version")
                continue
            }
            let reply: Reply = u.value == nil ? .delete(existed: old != nil, version: u.seq) : .put(old: old?.value, version: u.seq)
            replies[u.seq] = WriteOutcome(reply: reply, seq: u.seq, request: u.request!)
            state[u.key] = u.value.map { VersionedValue($0, version: u.seq) }
        }
        return (state, replies)
    }
}

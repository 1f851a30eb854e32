/// The cross-key half of a scan page's promise, where a page is one snapshot (a single-chain
/// cluster reads the whole page at one point of its sequence order): some instant of the page's
/// interval must allow every observation of the page at once.
///
/// `LinearizabilityChecker` checks each key's observation as a read on its own (linearizability
/// is per key there), so a page could pass it with each key read at a different instant. An exact
/// multi-key check would search the keys' linearizations together, which the per-key search is
/// built to avoid. This check is weaker but sound and cheap: for every observation it computes,
/// from real-time order alone (true in every linearization), times at which that observation is
/// impossible, and fails the page only when they leave no instant of its interval:
///
/// - a value written by exactly one operation `w` is not there before `w` was invoked, nor after
///   a known write `w2` of the key, invoked after `w` completed, completed (`w2` follows `w`, and
///   no one writes that value again); with an unknown-outcome `w` the end is open;
/// - absence is impossible strictly between a known put `p` completing and the first invocation
///   of a delete that may follow `p` (one not completed before `p` was invoked): `p` has taken
///   effect and no delete can yet have undone it.
///
/// Values written more than once are only bounded below by their first writer, and unchecked
/// from above. Calls and returns at equal times count as overlapping, as in the search.
public enum ScanSnapshots {
    public struct Violation: Equatable, Sendable, CustomStringConvertible {
        public var page: Int
        public var client: Int
        public var invoke: UInt64
        public var complete: UInt64
        /// Each key the page covered and what it saw there (nil: absent), in key order.
        public var reads: [(key: String, value: [UInt8]?)]

        public var description: String {
            "scan page \(page) (client \(client), \(invoke)...\(complete)): no one instant of its interval allows all of "
                + reads.map { "\($0.key)=\(ValueText.describe($0.value))" }.joined(separator: ", ")
        }

        public static func == (a: Violation, b: Violation) -> Bool {
            a.page == b.page && a.client == b.client && a.invoke == b.invoke && a.complete == b.complete
                && a.reads.map(\.key) == b.reads.map(\.key) && a.reads.map(\.value) == b.reads.map(\.value)
        }
    }

    /// The pages of `history` (operations with a `page`) that no single instant explains.
    /// `initial`: each key's value before the history, as for `LinearizabilityChecker.check`.
    public static func check(_ history: [Operation], initial: [String: [UInt8]] = [:]) -> [Violation] {
        var byKey: [String: [Operation]] = [:]
        var pages: [Int: [Operation]] = [:]
        for op in history {
            if let page = op.page {
                pages[page, default: []].append(op)
            } else if let checked = op.normalized {
                byKey[op.key, default: []].append(checked)
            }
        }
        var bounds: [String: KeyBounds] = [:]
        var violations: [Violation] = []
        for number in pages.keys.sorted() {
            let reads = pages[number]!.sorted { ScanPage.less(Array($0.key.utf8), Array($1.key.utf8)) }
            var low = reads.map(\.invoke).max()!
            var high = reads.compactMap(\.complete).min() ?? .max
            var absent: [KeyBounds] = []
            for read in reads {
                guard case .get(let value) = read.kind else { continue }
                let key = bounds[read.key] ?? KeyBounds(byKey[read.key] ?? [], initial: initial[read.key])
                bounds[read.key] = key
                if let value {
                    guard let span = key.present[value] else { continue }  // nobody wrote it: the per-key check fails
                    low = max(low, span.from)
                    high = min(high, span.until)
                } else {
                    absent.append(key)
                }
            }
            // Only the gaps that meet low...high matter; a key's gaps are disjoint, so sorted by both ends.
            var gaps: [(start: UInt64, end: UInt64)] = []
            if low <= high {
                for key in absent {
                    var i = KeyBounds.first(in: key.absentEnds) { $0 > low }
                    while i < key.absentImpossible.count, key.absentImpossible[i].start < high {
                        gaps.append(key.absentImpossible[i])
                        i += 1
                    }
                }
            }
            if !someInstant(from: low, through: high, avoiding: gaps) {
                let first = reads[0]
                violations.append(Violation(page: number, client: first.client, invoke: first.invoke, complete: first.complete ?? .max,
                                            reads: reads.map { read in
                                                guard case .get(let value) = read.kind else { return (read.key, nil) }
                                                return (read.key, value)
                                            }))
            }
        }
        return violations
    }

    /// Whether some instant `t` with `low <= t <= high` lies in none of the open intervals `gaps`.
    static func someInstant(from low: UInt64, through high: UInt64, avoiding gaps: [(start: UInt64, end: UInt64)]) -> Bool {
        var t = low
        for gap in gaps.sorted(by: { $0.start < $1.start }) {
            if t > high { return false }
            if gap.start >= t { return true }  // t lies before this gap and every later one
            t = max(t, gap.end)                // the first instant at or after t outside the gap
        }
        return t <= high
    }

    /// One key's bounds, from its operations other than scan reads (normalized).
    struct KeyBounds {
        /// For each value written: the instants it may be there, `from...until` (closed).
        var present: [[UInt8]: (from: UInt64, until: UInt64)] = [:]
        /// Open intervals in which the key cannot be absent, merged and sorted.
        var absentImpossible: [(start: UInt64, end: UInt64)] = []
        /// Their ends, for binary search.
        var absentEnds: [UInt64] = []

        init(_ ops: [Operation], initial: [UInt8]?) {
            // The initial value behaves as a put known to take effect at time 0.
            var puts: [(value: [UInt8], invoke: UInt64, complete: UInt64?, known: Bool)] = initial.map { [($0, 0, 0, true)] } ?? []
            var known: [(invoke: UInt64, complete: UInt64)] = initial.map { _ in [(0, 0)] } ?? []
            var deletes: [(invoke: UInt64, complete: UInt64)] = []
            for op in ops {
                switch op.kind {
                case .get: break
                case .put(let value, _), .putUnknown(let value):
                    puts.append((value, op.invoke, op.complete, op.outcomeIsKnown))
                    if op.outcomeIsKnown { known.append((op.invoke, op.complete!)) }
                case .delete, .deleteUnknown:
                    deletes.append((op.invoke, op.complete ?? .max))
                    if op.outcomeIsKnown { known.append((op.invoke, op.complete!)) }
                }
            }
            // Known writes by invocation, with the earliest completion among each suffix.
            known.sort { $0.invoke < $1.invoke }
            var earliestEnd = [UInt64](repeating: .max, count: known.count + 1)
            for i in stride(from: known.count - 1, through: 0, by: -1) { earliestEnd[i] = min(earliestEnd[i + 1], known[i].complete) }
            var writers: [[UInt8]: Int] = [:]
            for p in puts { writers[p.value, default: 0] += 1 }
            let knownStarts = known.map(\.invoke)
            for p in puts {
                guard writers[p.value] == 1 else {
                    let from = min(present[p.value]?.from ?? .max, p.invoke)
                    present[p.value] = (from, .max)
                    continue
                }
                // A same-valued later write cannot exist (one writer), so every later write removes it.
                let until = p.complete.map { done in earliestEnd[Self.first(in: knownStarts) { $0 > done }] } ?? .max
                present[p.value] = (p.invoke, until)
            }
            // Deletes by completion, with the earliest invocation among each suffix.
            deletes.sort { $0.complete < $1.complete }
            var earliestDelete = [UInt64](repeating: .max, count: deletes.count + 1)
            for i in stride(from: deletes.count - 1, through: 0, by: -1) { earliestDelete[i] = min(earliestDelete[i + 1], deletes[i].invoke) }
            let deleteEnds = deletes.map(\.complete)
            var gaps: [(start: UInt64, end: UInt64)] = []
            for p in puts where p.known {
                let done = p.complete!
                let undo = earliestDelete[Self.first(in: deleteEnds) { $0 >= p.invoke }]
                if done < undo { gaps.append((done, undo)) }
            }
            gaps.sort { $0.start < $1.start }
            for gap in gaps {
                // Open intervals that share only an end point leave that point free: kept apart.
                if let last = absentImpossible.last, gap.start < last.end {
                    absentImpossible[absentImpossible.count - 1].end = max(last.end, gap.end)
                } else {
                    absentImpossible.append(gap)
                }
            }
            absentEnds = absentImpossible.map(\.end)
        }

        /// The first index of the sorted `items` whose element satisfies `isAfter` (monotone).
        static func first(in items: [UInt64], where isAfter: (UInt64) -> Bool) -> Int {
            var low = 0, high = items.count
            while low < high {
                let mid = (low + high) / 2
                if isAfter(items[mid]) { high = mid } else { low = mid + 1 }
            }
            return low
        }
    }
}

import ChainCheck
import ChainCore
import ChainKV
import ChainTestSupport

extension Workload {
    /// A scan of a few pages: a prefix over every key ("k"), a prefix over some ("k1": k1, k10...),
    /// or a from/to range between two random keys (either end may be open). Its limit is small so
    /// that continuations are followed while other clients write between the pages. Each page is
    /// recorded on its own, with its own interval: the store promises nothing across pages.
    func scan(_ kv: ChainKVClient, client: Int, keyCount: Int, rng: inout SplitMix64) async {
        let limit = Int.random(in: 1...3, using: &rng)
        let pageCount = Int.random(in: 1...4, using: &rng)
        var prefix: String?
        var from: String?, to: String?
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: prefix = "k"
        case 1: prefix = "k\(Int.random(in: 0..<min(keyCount, 10), using: &rng))"
        default:
            func end() -> String? {
                Int.random(in: 0..<4, using: &rng) == 0 ? nil : "k\(Int.random(in: 0..<keyCount, using: &rng))"
            }
            from = end()
            to = end()
        }
        let range = prefix.map { KeyRange(prefix: $0) } ?? KeyRange(from: from, to: to)
        var after: String?
        for _ in 0..<pageCount {
            let invoke = now
            let result: ScanResult
            do {
                result = prefix != nil
                    ? try await kv.scan(prefix: prefix!, after: after, limit: limit)
                    : try await kv.scan(from: from, to: to, after: after, limit: limit)
            } catch {
                return  // a failed read had no effect: left out of the history, and the scan ends
            }
            let complete = now
            let entries = result.entries.map { ScanPage.Entry(key: $0.key, value: $0.value, version: $0.version) }
            record { number in
                ScanPage(number: number, client: client, lower: range.lower, upper: range.upper, after: after, limit: limit,
                         entries: entries, next: result.next, invoke: invoke, complete: complete)
            }
            guard let next = result.next else { return }
            after = next
        }
    }
}

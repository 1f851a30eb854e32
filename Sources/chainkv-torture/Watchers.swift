import ChainCheck
import ChainKV
import Foundation

/// The run's watchers: each on its own client, started from version 0 in every chain before the
/// load begins (so its stream should hold every committed change of its keys), recording every
/// event with its arrival time on the workload's clock. A stream that ends compacted resumes from
/// the oldest point its chain still holds (noted: the checker excuses writes invoked before);
/// one that ends with any other error is a problem (the client retries network failures on its
/// own), and the watcher goes on from its cursor.
final class Watchers: @unchecked Sendable {
    struct Spec {
        var name: String, prefix: String, exact: Bool
    }

    private let lock = NSLock()
    private var streams: [RecordedWatch]
    private(set) var failures: [String] = []
    private(set) var notes: [String] = []
    private var tasks: [Task<Void, Never>] = []
    private var clients: [ChainKVClient] = []
    private var stopping = false
    private let workload: Workload

    /// The whole workload ("k"), one key ("k0"), one one-digit prefix ("k1": k1, k10...).
    static let specs = [Spec(name: "prefix k", prefix: "k", exact: false), Spec(name: "key k0", prefix: "k0", exact: true),
                        Spec(name: "prefix k1", prefix: "k1", exact: false)]

    init(workload: Workload, sharded: Bool) {
        self.workload = workload
        streams = Self.specs.map { RecordedWatch(name: $0.name, prefix: $0.prefix, exact: $0.exact, sharded: sharded) }
    }

    var snapshot: [RecordedWatch] { lock.withLock { streams } }
    var eventCount: Int { snapshot.reduce(0) { $0 + $1.events.count } }

    /// Starts every watcher from version 0 of each chain (asked from the cluster: its chain ids).
    /// false if the chains could not be learned within `timeout`.
    /// `chains`: how many the cluster has (a server that has not read the slot map yet names none;
    /// a cursor missing a chain would start that chain's watch from "now", not from 0).
    func start(servers: [String], chains: Int, timeout: TimeInterval) async -> Bool {
        guard let kv = try? ChainKVClient(servers: servers, options: Workload.options()) else { return false }
        defer { kv.beginShutdown() }
        let deadline = Date().addingTimeInterval(timeout)
        var ids: [String]?
        while ids == nil && Date() < deadline {
            ids = (try? await kv.shards())?.chains.map(\.id)
            if ids?.count != chains { ids = nil }
            if ids == nil { try? await Task.sleep(nanoseconds: 300_000_000) }
        }
        guard let ids, let origin = WatchCursor(ids.map { "\($0):0" }.joined(separator: ",")) else { return false }
        for (i, spec) in Self.specs.enumerated() {
            guard let client = try? ChainKVClient(servers: servers, options: Workload.options()) else { return false }
            clients.append(client)
            tasks.append(Task { await self.watch(i, spec, client, from: origin) })
        }
        return true
    }

    private func watch(_ i: Int, _ spec: Spec, _ kv: ChainKVClient, from origin: WatchCursor) async {
        var cursor = origin
        while !Task.isCancelled {
            do {
                let stream = spec.exact ? try await kv.watch(key: spec.prefix, after: cursor)
                    : try await kv.watch(prefix: spec.prefix, after: cursor)
                for try await e in stream {
                    let event = RecordedWatch.Event(key: e.key, value: e.value, version: e.version, time: workload.now)
                    lock.withLock { streams[i].events.append(event) }
                    cursor = e.cursor
                }
                if Task.isCancelled || lock.withLock({ stopping }) { return }
                lock.withLock { failures.append("\(spec.name): the stream ended without an error at \(workload.now / 1_000_000) ms") }
            } catch let compacted as WatchCompacted {
                // Resume just before the oldest version the chain holds (its sequence number
                // minus one: a sharded version keeps the chain in its low 8 bits).
                let back: UInt64 = snapshot[i].sharded ? 256 : 1
                let resumeAt = compacted.oldest >= back ? compacted.oldest - back : 0
                var had = "?"
                let text = cursor.description.split(separator: ",").map { part -> String in
                    guard part.hasPrefix("\(compacted.chain):") else { return String(part) }
                    had = String(part.dropFirst(compacted.chain.count + 1))
                    return "\(compacted.chain):\(resumeAt)"
                }.joined(separator: ",")
                cursor = WatchCursor(text) ?? cursor
                let now = workload.now
                lock.withLock {
                    streams[i].resumes.append(RecordedWatch.Resume(time: now, index: streams[i].events.count))
                    notes.append("\(spec.name): compacted at \(now / 1_000_000) ms (\(compacted)); it had seen \(compacted.chain) up to \(had) (as far as its events tell); resumed after \(compacted.chain):\(resumeAt)")
                }
            } catch {
                if Task.isCancelled || lock.withLock({ stopping }) { return }
                lock.withLock { failures.append("\(spec.name): the stream failed at \(workload.now / 1_000_000) ms: \(error)") }
            }
            try? await Task.sleep(nanoseconds: 200_000_000)
        }
    }

    /// Waits until every watcher has caught up with the final reads (each watched key's last
    /// change is the value read; a watcher past a gap: every acknowledged put it must hold has
    /// arrived), at most `timeout`.
    func waitForCatchUp(history: [HistoryOp], finals: [String: [UInt8]?], timeout: TimeInterval) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let caughtUp = snapshot.allSatisfy { s in
                WatchChecker.check(s, history: history, finals: finals).allSatisfy { $0.kind != .missing && $0.kind != .final }
            }
            if caughtUp { return true }
            try? await Task.sleep(nanoseconds: 500_000_000)
        }
        return false
    }

    func stop() async {
        lock.withLock { stopping = true }
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
        for c in clients { await c.shutdown() }
    }
}

extension TortureRun {
    /// Every watcher's stream against the history (`WatchChecker`), after it caught up.
    func checkWatches(_ watchers: Watchers, history: [HistoryOp], finals: [String: [UInt8]?], _ report: inout RunReport) async {
        let caughtUp = await watchers.waitForCatchUp(history: history, finals: finals, timeout: 30)
        await watchers.stop()
        let streams = watchers.snapshot
        report.watchEvents = streams.reduce(0) { $0 + $1.events.count }
        var exact = 0
        for s in streams {
            let defects = WatchChecker.check(s, history: history, finals: finals)
            if defects.isEmpty { exact += 1 }
            for d in defects.prefix(10) { report.details += "watch \(d)\n" }
            if !defects.isEmpty {
                let kinds = Set(defects.map(\.kind.rawValue)).sorted().joined(separator: ", ")
                report.problems.append("watcher \(s.name): \(defects.count) defects (\(kinds))")
            }
        }
        report.watchersExact = "\(exact)/\(streams.count)" + (streams.contains { !$0.resumes.isEmpty } ? " (gap)" : "")
        if !caughtUp { report.details += "watchers had not caught up with the final reads within 30 s\n" }
        for f in watchers.failures { report.problems.append("watcher \(f)") }
        report.notes += watchers.notes.map { "watcher \($0)" }
        try? streams.map { s in
            "# \(s.name)\n" + s.events.map { "\($0.time) \($0.key) \($0.version) \($0.value.map { String(decoding: $0, as: UTF8.self) } ?? "<deleted>")" }
                .joined(separator: "\n")
        }.joined(separator: "\n").write(to: dir.appendingPathComponent("watches.txt"), atomically: true, encoding: .utf8)
    }
}

import ChainCore
import ChainKV
import Foundation
import NIOConcurrencyHelpers
import XCTest

/// Watches across slot moves: a sixth server joins five chains under write load, slots move to
/// its new chain, and a prefix watcher started before gets exactly the acknowledged writes of its
/// keys, each key's in order across the chains that held it, and none of the moves' copies or
/// purge deletes.
extension WatchTests {
    /// The writes of the load: per key, its acknowledged writes in the order they were made
    /// (one writer per key, one write at a time), and the keys with a write of unknown outcome.
    final class MoveLoad: @unchecked Sendable {
        let lock = NIOLock()
        var acked: [String: [(version: UInt64, value: String?)]] = [:]
        var unknown = Set<String>()
        var writes = 0
    }

    func testAPrefixWatcherSeesExactlyTheWritesOfItsKeysAcrossSlotMoves() throws {
        let cluster = try ClusterFixture(size: 5, chains: 0)
        defer { cluster.stop() }
        let watcher = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { watcher.beginShutdown() }
        let client = try ChainKVClient(servers: cluster.servers, options: cluster.clientOptions)
        defer { client.beginShutdown() }
        let (received, task) = start(try blockingTest { try await watcher.watch(prefix: "m/") })
        defer { task.cancel() }

        // Six writers over 240 keys (and keys outside the prefix), every fifth write a delete.
        let load = MoveLoad(), stop = NIOLockedValueBox(false)
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for w in 0..<6 {
                    group.addTask {
                        var n = 0
                        while !stop.withLockedValue({ $0 }) {
                            let key = "m/\(w)-\(n % 40)", value = "w\(w)-\(n)", delete = n % 5 == 4
                            n += 1
                            _ = try? await client.put("other/\(w)", [1], ifVersion: nil)
                            do {
                                let result = delete ? try await client.delete(key, ifVersion: nil)
                                    : try await client.put(key, Array(value.utf8), ifVersion: nil)
                                load.lock.withLock {
                                    load.acked[key, default: []].append((result.version!, delete ? nil : value))
                                    load.writes += 1
                                }
                            } catch {
                                load.lock.withLock { _ = load.unknown.insert(key) }
                            }
                        }
                    }
                }
            }
        }
        usleep(1_000_000)
        try cluster.addServer()
        let share = SlotMap.even(chains: (0..<6).map(ClusterLeader.chainID)).counts
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let map = try cluster.shards()
            if map.slotMap?.moving == nil, map.slotMap?.counts == share { break }
            usleep(200_000)
        }
        usleep(1_000_000)
        stop.withLockedValue { $0 = true }
        _ = try blockingTest { await writers.value }

        let (acked, unknown, writes) = load.lock.withLock { (load.acked, load.unknown, load.writes) }
        XCTAssertGreaterThan(writes, 300, "writes went on while the slots moved")
        let slotMap = try XCTUnwrap(try cluster.shards().slotMap)
        XCTAssertEqual(slotMap.counts, share, "the slots spread over six chains")
        let versions = Set(acked.values.flatMap { $0.map(\.version) })
        waitFor(received, versions: versions)
        XCTAssertNil(received.error)
        let events = received.all

        // Exactly the acknowledged writes (and writes of unknown outcome), each once: a move's
        // copy (the same value at a new version) or purge delete would be a version not written.
        var byVersion: [UInt64: (key: String, value: String?)] = [:]
        for (key, list) in acked { for w in list { byVersion[w.version] = (key, w.value) } }
        var seen = Set<UInt64>()
        for e in events {
            XCTAssertTrue(seen.insert(e.version).inserted, "version \(e.version) delivered twice")
            let value = e.value.map { String(decoding: $0, as: UTF8.self) }
            if let written = byVersion[e.version] {
                XCTAssertEqual(e.key, written.key)
                XCTAssertEqual(value, written.value, "\(e.key) at \(e.version)")
            } else {
                XCTAssertTrue(unknown.contains(e.key), "\(e.key) = \(value ?? "deleted") at \(e.version) was never written (a copy or a purge?)")
            }
        }
        XCTAssertEqual(versions.subtracting(seen), [], "every acknowledged write delivered")
        // Each key's writes in the order they were made, across the chains that held it.
        var moved = 0
        for (key, list) in acked where !unknown.contains(key) {
            let delivered = events.filter { $0.key == key }.map(\.version)
            XCTAssertEqual(delivered, list.map(\.version), "\(key)'s changes in order")
            if Set(delivered.map { $0 & 0xFF }).count > 1 { moved += 1 }
        }
        XCTAssertGreaterThan(moved, 0, "some keys changed on two chains during the run")
    }
}

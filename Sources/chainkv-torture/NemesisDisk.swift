import ChainStorage
import ChainTestSupport
import ChainWire
import Foundation

/// What the disk faults led to, for the run's report.
struct DiskOutcomes {
    /// EIO faults after which the server exited with the fail-stop status (70) / did not exit by itself.
    var failStops = 0
    var noExit = 0
    /// Database files damaged while their server was stopped cleanly / after a kill (a stop that
    /// did not finish in 10 s): only the first must be found at start.
    var damagedFiles = 0
    var damagedAfterKill = 0
}

/// The disk faults, through the shim every server preloads (`Fleet.setDiskFault`) and the files
/// in its data folder (README, "Disk faults"). Every random draw happens before the fault's
/// delayed part, so a seed replays the same schedule.
extension Nemesis {
    /// How long a server given EIO has to exit by itself before it is killed.
    static let eioExitWait: TimeInterval = 10
    /// Pages whose first bytes a damaged file gets overwritten (B-tree headers and cell pointers).
    static let damagedPages = 2...6
    static let damagedBytes = 64

    /// A running server, or nil.
    private func runningServer() -> (index: Int, child: Child)? {
        let i = Int.random(in: 0..<fleet.servers.count, using: &rng)
        let s = fleet.servers[i]
        guard s.isRunning, claim([s.name]) else { return nil }
        return (i, s)
    }

    /// EIO from fsync or from write on one server's database files: it must exit (fail-stop).
    /// Then the fault goes away and the server is restarted, as a supervisor would after a disk swap.
    func injectEIO() {
        let mode = Bool.random(using: &rng) ? "eio-fsync" : "eio-write"
        let down = seconds(0.3...2.0)
        guard let (i, s) = runningServer() else { return }
        s.heldDown = true
        fleet.setDiskFault(i, mode)
        note(.diskEIO, "disk EIO: \(mode) on \(s.name)'s database files")
        later {
            let deadline = Date().addingTimeInterval(Nemesis.eioExitWait)
            while s.isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 50_000_000) }
            if s.isRunning {
                // No write reached it (a sharded server idle in its chains): end the fault anyway.
                s.signal(SIGKILL)
                self.lock.withLock { self.disk.noExit += 1 }
                self.remark("disk EIO: \(s.name) wrote nothing within \(Int(Nemesis.eioExitWait)) s; SIGKILL")
            } else {
                let status = s.process?.terminationStatus ?? -1
                if status == 70 { self.lock.withLock { self.disk.failStops += 1 } }
                self.remark("disk EIO: \(s.name) exited with status \(status)")
            }
            self.fleet.setDiskFault(i, nil)
            try? await Task.sleep(nanoseconds: down)
            s.heldDown = false
            try? s.start()
            self.release([s.name])
        }
    }

    /// A clean stop, bytes overwritten in pages of every database file of the server, a restart:
    /// the server must find the damage, move the file aside and rejoin by state transfer.
    ///
    /// Only a server that leaves each chain it is named in with `damageSyncedOthersMin` synced
    /// members acting in the chain's current configuration, read from ZooKeeper right before the
    /// stop (`ChainConfigs`), with the servers' statuses asked just before that. Damaging the last
    /// synced copy is outside the fault model (every replica of a chain lost): the chain then stays
    /// unavailable, never stale, as designed, and the run could not heal (seed 1904 drew it: chain
    /// [n3], n3's file damaged; seed 204: chain [n2], drawn on statuses a second old that still
    /// showed n2 outside, with joins that had left one synced member).
    func injectDamage() async {
        let down = seconds(0.3...1.5)
        guard let (i, s) = runningServer() else { return }
        let statuses = await fleet.statuses()
        guard let configs = await ChainConfigs.read(connectString: ensembleConnectString, cluster: Fleet.cluster),
              ChainConfigs.othersHoldTheData(of: s.name, configs: configs, statuses: statuses, othersMin: Self.damageSyncedOthersMin) else {
            remark("damaged file: skipped, \(s.name) is named in a chain with fewer than \(Self.damageSyncedOthersMin) other synced members acting (or ZooKeeper did not answer)")
            release([s.name])
            return
        }
        s.heldDown = true
        s.signal(SIGTERM)
        note(.damagedFile, "damaged file: SIGTERM \(s.name), then its database files damaged")
        let dir = fleet.dataDirs[i]
        later {
            let deadline = Date().addingTimeInterval(10)
            while s.isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 50_000_000) }
            // A clean stop leaves the WAL empty (its pages are in the file); after a kill the WAL
            // may hold newer copies of the damaged pages, which then hide the damage (harmlessly:
            // a checkpoint overwrites those pages before the WAL is dropped).
            let clean = !s.isRunning
            if !clean { s.signal(SIGKILL) }
            let damaged = Nemesis.damageDatabases(in: dir)
            self.lock.withLock { clean ? (self.disk.damagedFiles += damaged.count) : (self.disk.damagedAfterKill += damaged.count) }
            self.remark("damaged file: \(s.name): \(damaged.isEmpty ? "no database file" : damaged.joined(separator: ", "))")
            try? await Task.sleep(nanoseconds: down)
            s.heldDown = false
            try? s.start()
            self.release([s.name])
        }
    }

    /// Synced members other than the drawn server, acting in a chain's current configuration, that
    /// each chain naming the server must have before its files may be damaged: two, so a failure
    /// of one more does not leave the chain on its last copy at once.
    static let damageSyncedOthersMin = 2

    /// Every fsync of one server's database files delayed for a few seconds: the chain slows.
    func injectSlowDisk() {
        let delayMs = Int.random(in: 20...150)
        let span = seconds(2.0...6.0)
        guard let (i, s) = runningServer() else { return }
        fleet.setDiskFault(i, "delay-fsync \(delayMs)")
        note(.slowDisk, "slow disk: every fsync of \(s.name)'s database files takes \(delayMs) ms more for \(span / 1_000_000) ms")
        later {
            try? await Task.sleep(nanoseconds: span)
            self.fleet.setDiskFault(i, nil)
            self.release([s.name])
        }
    }

    /// Writes to one server's database files fail with ENOSPC for a few seconds, as on a full
    /// file system: the server must leave its chains and come back by itself once writes succeed.
    /// (The shim fills no file system, so the server's free-space check passes at once: it restarts
    /// every second and leaves again at its first write until the fault ends. DiskFullTests fills
    /// a real tmpfs.)
    func injectDiskFull() {
        let span = seconds(1.5...5.0)
        guard let (i, s) = runningServer() else { return }
        fleet.setDiskFault(i, "enospc")
        note(.diskFull, "disk full: writes to \(s.name)'s database files fail with ENOSPC for \(span / 1_000_000) ms")
        let log = fleet.dataDirs[i].appendingPathComponent("server.log")
        later {
            try? await Task.sleep(nanoseconds: span)
            self.fleet.setDiskFault(i, nil)
            let left = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").components(separatedBy: "disk full: leaving every chain").count - 1
            self.remark("disk full: \(s.name) ENOSPC ends (its log says it left its chains \(left) times so far)")
            self.release([s.name])
        }
    }

    /// Overwrites the first bytes of pages `damagedPages` of each database file in `dir` that has
    /// them; returns the files' names.
    static func damageDatabases(in dir: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        var damaged: [String] = []
        for name in names.sorted() where name.hasPrefix("chainkv") && name.hasSuffix(".sqlite") {
            let url = dir.appendingPathComponent(name)
            guard let handle = try? FileHandle(forUpdating: url) else { continue }
            defer { try? handle.close() }
            let pages = Int((try? handle.seekToEnd()) ?? 0) / Store.newPageSize
            guard pages >= damagedPages.lowerBound else { continue }
            for page in damagedPages where page <= pages {
                try? handle.seek(toOffset: UInt64((page - 1) * Store.newPageSize))
                handle.write(Data(repeating: 0xFF, count: damagedBytes))
            }
            damaged.append(name)
        }
        return damaged
    }
}

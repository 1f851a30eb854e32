import Foundation

extension TortureRun {
    /// After a run with disk faults: every damaged file was found when its server started again
    /// (so none was served), and how the servers given EIO ended, as a note.
    func checkDiskFaults(_ nemesis: Nemesis, fleet: Fleet, _ report: inout RunReport) {
        guard fleet.diskFaults else { return }
        let outcomes = nemesis.lock.withLock { nemesis.disk }
        let logs = fleet.dataDirs.map { (try? String(contentsOf: $0.appendingPathComponent("server.log"), encoding: .utf8)) ?? "" }
        let found = logs.map { $0.components(separatedBy: "database file damaged").count - 1 }.reduce(0, +)
        report.notes.append("disk: \(outcomes.failStops) EIO fail-stops (exit 70), \(outcomes.noExit) EIO faults met no write; "
                            + "\(outcomes.damagedFiles) files damaged after a clean stop (+ \(outcomes.damagedAfterKill) after a kill), "
                            + "\(found) found damaged at start")
        // Unsharded, the one chain's file opens at every start, so each damage is found at the
        // restart after it. Sharded, a chain that moved away meanwhile is not opened again.
        if chains == 1 && found < outcomes.damagedFiles {
            report.problems.append("\(outcomes.damagedFiles - found) damaged database files were not found at start")
        }
        // More found than damaged: a sound file moved aside (the check must not mistake a failed
        // write for damage).
        if found > outcomes.damagedFiles + outcomes.damagedAfterKill {
            report.problems.append("\(found - outcomes.damagedFiles - outcomes.damagedAfterKill) sound database files were taken for damaged")
        }
    }
}

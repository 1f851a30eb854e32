import Foundation

extension TortureRun {
    /// Lines a Swift trap leaves on a server's stderr (its `server.log`): a failed `precondition`,
    /// `assert` (kept on in CI's build, `-assert-config Debug`) or `fatalError`, a forced unwrap
    /// of nil, an index out of range. Every deliberate stop of a server is an `_exit` with a
    /// status and no such line (a lost session, a disk fail-stop).
    static let trapMarkers = ["Fatal error:", "Assertion failed:", "Precondition failed:"]

    /// After a run: no server trapped. The fleet restarts a server that exited, so a trap would
    /// otherwise pass for one more crash of the schedule while it is a broken invariant.
    func checkForTraps(fleet: Fleet, _ report: inout RunReport) {
        for (i, dir) in fleet.dataDirs.enumerated() {
            guard let log = try? String(contentsOf: dir.appendingPathComponent("server.log"), encoding: .utf8) else { continue }
            let traps = log.split(separator: "\n").filter { line in Self.trapMarkers.contains { line.contains($0) } }
            guard let first = traps.first else { continue }
            report.problems.append("server n\(i + 1) trapped \(traps.count) time(s): \(first.prefix(300))")
        }
    }
}

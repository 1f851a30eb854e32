import ChainCheck

/// The checks of a run's scan pages beyond the per-key linearizability check (which takes each
/// page's keys as reads in the page's interval, through the history).
extension TortureRun {
    /// Each page on its own (order, range, limit), then, on one chain, the single-instant check
    /// (`ScanSnapshots`). On several chains a page merges one point per chain, so it is not one
    /// snapshot, and only the per-key check applies.
    func checkScans(_ pages: [ScanPage], history: [HistoryOp], _ report: inout RunReport) {
        report.scanPages = pages.count
        for page in pages {
            for defect in page.defects {
                report.problems.append("scan page \(page.number): \(defect)")
                report.details += "malformed: \(page)\n"
            }
        }
        guard chains == 1 else {
            report.snapshots = "n/a"
            return
        }
        let violations = ScanSnapshots.check(history)
        report.snapshots = violations.isEmpty ? "all" : "\(violations.count) not"
        if !violations.isEmpty {
            report.problems.append("\(violations.count) scan pages fit no single instant")
            let byNumber = Dictionary(uniqueKeysWithValues: pages.map { ($0.number, $0) })
            for v in violations.prefix(10) {
                report.details += "\(v)\n  \(byNumber[v.page].map { "\($0)" } ?? "")\n"
            }
        }
    }
}

import ChainCore
import ChainStorage
import FoundationEssentials
import Logging

/// The check of a chain's database before it opens (README, "Disk faults"): `PRAGMA quick_check`
/// within `checkBudget`; a damaged file is renamed aside, never served, and the chain's replica
/// starts from an empty file that rejoins by state transfer (`Store.markNeedsTransfer`).
enum DamagedDatabase {
    /// How long the check of one file may take at start. quick_check reads every page: a 274 MB
    /// file of 200,000 1 KiB rows took 0.26-0.85 s from the page cache and 4.3-9.3 s from disk
    /// (README, "Disk faults"), so this covers a few hundred MB cold and about 3 GB warm; a bigger
    /// file is checked only as far as the budget goes (logged at warning level).
    static let checkBudget: Duration = .seconds(10)

    /// Checks `path`; returns true if it was damaged and moved aside (the caller opens an empty
    /// file in its place). Throws if it cannot check or move it (the server then does not start).
    static func checkAtStart(path: String, logger: Logger) throws -> Bool {
        let started = ContinuousClock.now
        let outcome = try IntegrityCheck.run(path: path, budget: checkBudget)
        let elapsed = ContinuousClock.now - started
        let ms = elapsed.wholeMilliseconds
        switch outcome {
        case .intact:
            logger.debug("database checked", metadata: ["path": "\(path)", "ms": "\(ms)"])
            return false
        case .unfinished:
            logger.warning("database check did not finish within its budget; the pages checked were intact, the rest are not checked",
                           metadata: ["path": "\(path)", "budgetMs": "\(checkBudget.wholeMilliseconds)"])
            return false
        case .damaged(let problems):
            let aside = "\(path).damaged-\(Int(Date().timeIntervalSince1970))"
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.moveItem(atPath: path + suffix, toPath: aside + suffix)
            }
            logger.error("database file damaged: moved aside, not served; this replica starts empty and rejoins its chain by state transfer",
                         metadata: ["path": "\(path)", "movedTo": "\(aside)", "problems": "\(problems)", "ms": "\(ms)"])
            return true
        }
    }
}

import ChainCoordination
import Foundation

/// Whether `chainkv status` found the cluster healthy: every chain member and registered server
/// answers, at least `--expect` servers answer, and ZooKeeper (when asked) answers. Unhealthy
/// ends the command with exit 5 and the reasons in one line.
struct StatusHealth {
    /// Bound of `--expect` (a cluster is far smaller).
    static let expectMax = 4096

    var problems: [String]

    /// - Parameters:
    ///   - live: servers that answered.
    ///   - expect: servers that should answer (`--expect`).
    init(problems: [String], live: Int, expect: Int?) {
        self.problems = problems
        if let expect, live < expect { self.problems.append("\(live) of \(expect) expected servers live") }
    }

    var healthy: Bool { problems.isEmpty }

    /// "healthy" and "problems", for the JSON object of status.
    var jsonFields: [String: Any?] { ["healthy": healthy, "problems": problems] }

    /// Exits 5 when unhealthy, after the one line "chainkv: unhealthy: ..." on stderr (not with
    /// --json, whose object holds the problems).
    func finish(json: Bool) {
        guard !healthy else { return }
        if !json { FileHandle.standardError.write(Data("chainkv: unhealthy: \(problems.joined(separator: "; "))\n".utf8)) }
        exit(ExitStatus.unhealthy.rawValue)
    }

    /// Why ZooKeeper could not be read, in words.
    static func zooKeeperProblem(_ connect: String, _ error: Error) -> String {
        switch error as? ZooKeeperError {
        case .timedOut?: return "ZooKeeper at \(connect) did not answer"
        case .authFailed?, .notAuthorized?: return "ZooKeeper at \(connect) refused access (\(error))"
        default: return "ZooKeeper at \(connect) could not be read (\(error))"
        }
    }
}

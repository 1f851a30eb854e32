import Foundation

/// The failover benchmark's tables: the same rows as a plain-text table for the terminal and as
/// markdown for summary.md.
enum BenchFailoverReport {
    static let header = ["system", "servers", "role", "kills", "write median", "write worst", "read median", "read worst",
                         "errors/kill median (max)"]

    static func cells(_ s: BenchFailoverSummary) -> [String] {
        func ms(_ v: Double?) -> String {
            guard let v else { return "-" }
            return String(format: "%.0f ms", v)
        }
        let mark = s.incomplete > 0 ? " (\(s.incomplete) incomplete)" : ""
        return [s.system, "\(s.servers)", s.role + mark, "\(s.kills)", ms(s.writeMedianMs), ms(s.writeWorstMs),
                ms(s.readMedianMs), ms(s.readWorstMs), String(format: "%g (%d)", s.errorsMedian, s.errorsMax)]
    }

    static func text(_ rows: [BenchFailoverSummary]) -> String {
        let table = [header] + rows.map(cells)
        let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
        return table.map { row in
            row.enumerated().map { i, cell in
                i <= 2 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func markdown(_ rows: [BenchFailoverSummary]) -> String {
        var lines = ["| " + header.joined(separator: " | ") + " |",
                     "|" + header.indices.map { $0 <= 2 ? "---|" : "---:|" }.joined()]
        for r in rows { lines.append("| " + cells(r).joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n")
    }

    /// summary.md: what was run, the table, how to read it, and any problems.
    static func summary(_ file: BenchFailoverFile) -> String {
        let s = file.settings
        let config = s.nodeConfig.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let zk = s.zookeeperConfig.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        var out = """
        # chainkv failover benchmark

        `\(file.command)`

        Started \(file.startedAt) on \(file.host) (\(file.cores) cores), \(String(format: "%.0f", file.durationSeconds)) s\(file.commit.map { ", commit \($0)" } ?? "").
        Chains of \(s.chainSizes.map(String.init).joined(separator: " and ")) servers; kills per role: \(s.killsPerRole) (head-paused: \(s.pausedKills));
        ZooKeeper leader kills: \(s.zookeeperKills). Load: one closed-loop writer (put, \(s.valueSize)-byte values) and one
        closed-loop reader (get) over \(s.keys) keys, each on its own client (ZooKeeper: the writer alone, setData).

        \(markdown(file.summary))

        Unavailability: the longest time between two successive successful operations of one loop, from the last
        success before the kill until the first success after the cluster was whole again (victim restarted, chain full,
        nothing syncing; ZooKeeper: all three servers serving). It includes the client's own detection and retry time.
        Errors: operations that threw (the client retries inside its retry budget first, so chainkv shows few; the
        ZooKeeper writer retries every 5 ms while disconnected, so it shows many). "incomplete": the window did not close
        or the cluster did not get whole again in time (the value is then a lower bound).

        Roles: \(BenchFailoverRole.allCases.map { "**\($0.rawValue)**: \($0.explanation)" }.joined(separator: "; ")).
        ZooKeeper **leader**: the server answering `srvr` with `Mode: leader`, SIGKILL, restarted by scripts/zk.

        Server settings (conf/nodes): \(config). Client: ChainKVClient defaults (request timeout \(s.clientRequestTimeoutMs) ms,
        connect timeout \(s.clientConnectTimeoutMs) ms, retry budget \(s.clientRetryBudgetMs) ms); a session failing for
        \(String(format: "%g", s.reopenAfterSeconds)) s is reopened (\(file.kills.map(\.reopenedSessions).reduce(0, +)) times in this run).
        ZooKeeper: \(zk); session timeout \(s.zookeeperSessionTimeoutMs) ms.

        Every kill, with its timings, error samples and throughput around it (50 ms buckets): failover.json.
        failover.svg draws throughput over time across the median kill of the head roles and of ZooKeeper's leader.

        """
        if !file.problems.isEmpty {
            out += "\n## Problems\n\n" + file.problems.map { "- " + $0.replacingOccurrences(of: "\n", with: " / ") }.joined(separator: "\n") + "\n"
        }
        return out
    }
}

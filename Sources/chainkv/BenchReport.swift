import ArgumentParser
import Foundation
import Glibc

/// `chainkv bench report`: a markdown summary of every result file in a folder: the chainkv vs
/// ZooKeeper comparison, issue 5's targets, every point, and the figures.
struct BenchReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a markdown summary (comparison table, targets, all results) of the bench JSON files in a folder.",
        discussion: """
        Examples:
          chainkv bench report --dir results
          chainkv bench report --dir results --out results/README.md --command "scripts/bench"

        Exit codes: 0 written, 2 usage error, 3 runtime error (the folder unreadable).
        """
    )

    @Option(help: "Folder with the *.json files of `chainkv bench --json-file`.") var dir: String
    @Option(help: "Markdown file to write (default DIR/summary.md).") var out: String?
    @Option(help: "The command that produced the results, recorded in the summary.") var command: String?

    func run() throws {
        let url = URL(fileURLWithPath: dir)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        let files = names.filter { $0.hasSuffix(".json") }.map { url.appendingPathComponent($0).path }
        var points: [BenchPoint] = []
        for f in files {
            if let p = try? BenchFormat.load([f]) { points += p }
        }
        guard !points.isEmpty else { throw BenchError("no bench results in \(dir)") }
        points.sort { $0.startedAt < $1.startedAt }
        let svgs = names.filter { $0.hasSuffix(".svg") }
        let md = Self.markdown(points: points, svgs: svgs, command: command)
        let path = out ?? url.appendingPathComponent("summary.md").path
        try Data(md.utf8).write(to: URL(fileURLWithPath: path))
        benchStderr("bench: wrote \(path)\n")
    }

    static func machine() -> String {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "?"
        let mem = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("MemTotal") }
            .map { String($0.split(separator: ":")[1]).trimmingCharacters(in: .whitespaces) } ?? "?"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(mem) RAM, Linux \(release)"
    }

    static func cell(_ s: BenchOpStats?) -> String {
        guard let s else { return "–" }
        return "\(BenchFormat.rate(s.throughput)) | \(BenchFormat.ms(s.p50Ms)) | \(BenchFormat.ms(s.p99Ms))"
    }

    /// One comparison cell: the run's figures, then its server and client CPU µs per operation.
    static func cell(_ run: (stats: BenchOpStats, point: BenchPoint)?) -> String {
        guard let run else { return "– | – | – | – | –" }
        return cell(run.stats) + " | \(BenchFormat.cpu(run.point.serverCpuUsPerOp)) | \(BenchFormat.cpu(run.point.clientCpuUsPerOp))"
    }

    static func workloadName(_ p: BenchPoint, _ op: String) -> String {
        let what = op == "get" ? "reads" : "writes"
        let mixText = p.mix == "0:100" || p.mix == "100:0" ? what : "\(what) (mix \(p.mix))"
        let conc = p.pipeline > 1 ? "\(p.clients) clients × \(p.pipeline) in flight" : "\(p.clients) closed-loop client\(p.clients == 1 ? "" : "s")"
        let extra = p.entries != 4000 ? ", \(p.entries) entries" : ""
        let sizes = p.keySize != 128 || p.valueSize != 1024 ? ", \(p.keySize)/\(p.valueSize) B" : ""
        let dist = p.distribution != "uniform" ? ", \(p.distribution)" : ""
        let load = p.rate.map { String(format: "open loop at %.0f/s over %d clients", $0, p.clients) + (p.pipeline > 1 ? " × \(p.pipeline)" : "") } ?? conc
        return "\(load), \(mixText)\(extra)\(sizes)\(dist)"
    }

    static func markdown(points: [BenchPoint], svgs: [String], command: String?) -> String {
        var md = "# chainkv bench results\n\n"
        md += "- date: \(points.first!.startedAt) – \(points.last!.startedAt)\n"
        md += "- machine: \(points.first!.host), \(machine())\n"
        if let command { md += "- command: `\(command)`\n" }
        md += "- everything on loopback; chainkv: SQLite synchronous=FULL on every server; ZooKeeper: default (fsync per txn log write)\n\n"

        // Comparison: tag "compare*", one row per workload, one column group per label.
        let compare = points.filter { $0.tag.hasPrefix("compare") }
        if !compare.isEmpty {
            var labels: [String] = []
            for p in compare where !labels.contains(p.label) { labels.append(p.label) }
            var rows: [String] = []
            var runs: [String: [String: [(stats: BenchOpStats, point: BenchPoint)]]] = [:]
            for p in compare {
                for op in BenchFormat.opOrder(p) {
                    let w = workloadName(p, op)
                    if runs[w] == nil { runs[w] = [:]; rows.append(w) }
                    runs[w]![p.label, default: []].append((p.operations[op]!, p))
                }
            }
            // A repeated row shows its median run (by throughput), so its figures stay one run's.
            let cells = runs.mapValues { $0.mapValues { medianRun($0, by: \.stats.throughput)! } }
            md += "## chainkv against ZooKeeper (run back to back, same machine)\n\n"
            md += "Each cell: ops/s | p50 ms | p99 ms | srv µs/op | cli µs/op. srv µs/op: CPU time (utime+stime) of all the system's servers "
            md += "over the measured window per operation; cli µs/op: the bench client's own (– where not recorded). "
            md += "128 B keys, 1 KiB values, uniform over 4000 entries unless the row says otherwise. "
            md += "A row run more than once shows its median run by throughput (every run is under Every point).\n\n"
            md += "| workload | " + labels.map { "\($0) ops/s | p50 | p99 | srv µs/op | cli µs/op" }.joined(separator: " | ") + " |\n"
            md += "|---|" + labels.map { _ in "---:|---:|---:|---:|---:" }.joined(separator: "|") + "|\n"
            for w in rows {
                md += "| \(w) | " + labels.map { cell(cells[w]![$0]) }.joined(separator: " | ") + " |\n"
            }
            md += "\n"
        }

        md += targets(points)

        md += "## Every point\n\n"
        md += "busy cores: the whole machine's cores busy on average over the point's measured window (/proc/stat: every process, not only the system measured).\n\n"
        md += "| label | tag | nodes | clients | pipeline | entries | key/value | dist | mix | op | ops | errors | ops/s | p50 ms | p99 ms | p99.9 ms | srv µs/op | cli µs/op | busy cores | server RSS MiB |\n"
        md += "|---|---|--:|--:|--:|--:|--:|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n"
        for p in points {
            let rss = p.serverRSSKiB.map { m in m.keys.sorted().map { k in String(format: "%.0f", Double(m[k]!) / 1024) }.joined(separator: ", ") } ?? ""
            for op in BenchFormat.opOrder(p) {
                let s = p.operations[op]!
                md += "| \(p.label) | \(p.tag) | \(p.nodes) | \(p.clients) | \(p.pipeline) | \(p.entries) | \(p.keySize)/\(p.valueSize) | \(p.distribution) | \(p.mix) | \(op) | \(s.count) | \(s.errors + s.missing) | \(BenchFormat.rate(s.throughput)) | \(BenchFormat.ms(s.p50Ms)) | \(BenchFormat.ms(s.p99Ms)) | \(BenchFormat.ms(s.p999Ms)) | \(BenchFormat.cpu(p.serverCpuUsPerOp)) | \(BenchFormat.cpu(p.clientCpuUsPerOp)) | \(p.machineBusyCores.map { String(format: "%.2f", $0) } ?? "–") | \(rss) |\n"
            }
        }
        if !svgs.isEmpty {
            md += "\n## Figures\n\n"
            for s in svgs { md += "![\(s)](\(s))\n\n" }
        }
        return md
    }

    /// The run with the median throughput (the lower middle one for an even count), or nil for none.
    static func medianRun(_ runs: [BenchOpStats]) -> BenchOpStats? {
        medianRun(runs, by: \.throughput)
    }

    /// The run with the median `key` (the lower middle one for an even count), or nil for none.
    static func medianRun<Run>(_ runs: [Run], by key: (Run) -> Double) -> Run? {
        guard !runs.isEmpty else { return nil }
        return runs.sorted { key($0) < key($1) }[(runs.count - 1) / 2]
    }

    /// The median (the lower middle one for an even count, as `medianRun`), or nil for none.
    static func median(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.sorted()[(values.count - 1) / 2]
    }

    /// Issue 5's targets, from the comparison points (the median run of a repeated row); the
    /// 5-server ratio from the alternating `chain-length` rows when there are any.
    static func targets(_ points: [BenchPoint]) -> String {
        func all(_ target: String, nodes: Int, mix: String, entries: Int = 4000, tag: String = "compare") -> [BenchPoint] {
            points.filter {
                $0.tag == tag && $0.target == target && $0.nodes == nodes && $0.mix == mix && $0.entries == entries && $0.clients == 32
                    && $0.pipeline == 1 && $0.keySize == 128 && $0.valueSize == 1024 && $0.distribution == "uniform"
            }
        }
        /// The median run (by throughput) of a row run once or more.
        func find(_ target: String, nodes: Int, mix: String, op: String, entries: Int = 4000, tag: String = "compare") -> BenchOpStats? {
            medianRun(all(target, nodes: nodes, mix: mix, entries: entries, tag: tag).compactMap { $0.operations[op] })
        }
        /// ", median of a, b, c" for a repeated row, else nothing.
        func runsNote(_ target: String, nodes: Int, mix: String, op: String) -> String {
            let rates = all(target, nodes: nodes, mix: mix).compactMap { $0.operations[op]?.throughput }
            return rates.count > 1 ? ", median of \(rates.map(BenchFormat.rate).joined(separator: ", "))" : ""
        }
        let cw = find("chainkv", nodes: 3, mix: "0:100", op: "put")
        let zw = find("zookeeper", nodes: 3, mix: "0:100", op: "put")
        let cr = find("chainkv", nodes: 3, mix: "100:0", op: "get")
        let zr = find("zookeeper", nodes: 3, mix: "100:0", op: "get")
        let c5 = find("chainkv", nodes: 5, mix: "0:100", op: "put")
        // The largest database measured with tag entries-big, against that run's own 4000-entry point.
        let bigRuns = points.filter { $0.tag == "entries-big" && $0.target == "chainkv" && $0.mix == "100:0" }
        let big = bigRuns.max { $0.entries < $1.entries }.flatMap { $0.entries > 4000 ? $0 : nil }
        let small = find("chainkv", nodes: 3, mix: "100:0", op: "get", tag: "entries-big") ?? cr
        var rows: [(String, String, String)] = []
        func ok(_ b: Bool?) -> String { b.map { $0 ? "yes" : "**no**" } ?? "not measured" }
        func r(_ v: Double?) -> String { v.map(BenchFormat.rate) ?? "–" }
        if let cw {
            rows.append(("writes/s, 3-server chain, 32 clients", "\(r(cw.throughput))\(runsNote("chainkv", nodes: 3, mix: "0:100", op: "put")) (ZooKeeper \(r(zw?.throughput))\(runsNote("zookeeper", nodes: 3, mix: "0:100", op: "put")); ×\(zw.map { String(format: "%.2f", cw.throughput / $0.throughput) } ?? "?"))",
                         ok(zw.map { cw.throughput >= 2 * $0.throughput && cw.throughput >= 5000 }) + " (goal ≥ 2× ZooKeeper and ≥ 5,000)"))
            rows.append(("write p99", "\(BenchFormat.ms(cw.p99Ms)) ms (ZooKeeper \(zw.map { BenchFormat.ms($0.p99Ms) } ?? "–") ms)",
                         ok(zw.map { cw.p99Ms <= $0.p99Ms }) + " (goal ≤ ZooKeeper's)"))
        }
        if let cr {
            rows.append(("reads/s, 3-server chain, 32 clients", "\(r(cr.throughput))\(runsNote("chainkv", nodes: 3, mix: "100:0", op: "get")) (ZooKeeper \(r(zr?.throughput))\(runsNote("zookeeper", nodes: 3, mix: "100:0", op: "get")); ×\(zr.map { String(format: "%.2f", cr.throughput / $0.throughput) } ?? "?"))",
                         ok(zr.map { cr.throughput >= 2 * $0.throughput && cr.throughput >= 40000 }) + " (goal ≥ 2× ZooKeeper and ≥ 40,000)"))
            rows.append(("read p99", "\(BenchFormat.ms(cr.p99Ms)) ms (ZooKeeper \(zr.map { BenchFormat.ms($0.p99Ms) } ?? "–") ms)",
                         ok(zr.map { cr.p99Ms <= $0.p99Ms }) + " (goal ≤ ZooKeeper's)"))
        }
        if let big, let g = big.operations["get"] {
            rows.append(("reads/s with \(big.entries) entries, \(big.nodes)-server chain, 32 clients", "\(r(g.throughput)) (4000 entries: \(r(small?.throughput)))",
                         ok(small.map { g.throughput >= 0.75 * $0.throughput }) + " (goal within 25 % at 1,000,000)"))
            let rss = big.serverRSSKiB?.values.max()
            rows.append(("largest server RSS with \(big.entries) entries", rss.map { String(format: "%.0f MiB", Double($0) / 1024) } ?? "not measured",
                         ok(rss.map { $0 < 150 * 1024 }) + " (goal < 150 MiB)"))
        }
        // Write rates of the alternating `chain-length` rows, in run order.
        let pairs3 = all("chainkv", nodes: 3, mix: "0:100", tag: "chain-length").compactMap { $0.operations["put"]?.throughput }
        let pairs5 = all("chainkv", nodes: 5, mix: "0:100", tag: "chain-length").compactMap { $0.operations["put"]?.throughput }
        if let m3 = median(pairs3), let m5 = median(pairs5) {
            // Alternating rows (tag chain-length): the medians, with every rate in run order.
            let list = { (rates: [Double]) in rates.map(r).joined(separator: ", ") }
            rows.append(("writes/s, 5-server chain, 32 clients (alternating with a 3-server chain)",
                         "median \(r(m5)) (\(list(pairs5))) vs 3-server median \(r(m3)) (\(list(pairs3))); \(String(format: "%.0f %%", 100 * m5 / m3))",
                         ok(m5 >= 0.6 * m3) + " (goal ≥ 60 % of the 3-server chain)"))
        } else if let c5 {
            rows.append(("writes/s, 5-server chain, 32 clients", "\(r(c5.throughput)) (3-server: \(r(cw?.throughput)); \(cw.map { String(format: "%.0f %%", 100 * c5.throughput / $0.throughput) } ?? "?"))",
                         ok(cw.map { c5.throughput >= 0.6 * $0.throughput }) + " (goal ≥ 60 % of the 3-server chain)"))
        }
        guard !rows.isEmpty else { return "" }
        var md = "## Issue 5 targets\n\n| target | measured | met |\n|---|---|---|\n"
        for (a, b, c) in rows { md += "| \(a) | \(b) | \(c) |\n" }
        return md + "\n"
    }
}

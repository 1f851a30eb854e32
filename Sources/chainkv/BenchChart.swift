import ArgumentParser
import Foundation

/// `chainkv bench chart`: one SVG figure from result files, like the paper's: throughput (left)
/// and latency (right, p50 solid, p99 dashed) against one sweep dimension, one line per series.
struct BenchChart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chart",
        abstract: "Draw an SVG line chart (throughput and latency against one dimension) from bench JSON files.",
        discussion: """
        Series are the operation type (get, put) crossed with every other dimension that varies among the
        selected results (label, distribution, mix, ...).

        Examples:
          chainkv bench chart --x clients --title "Throughput and latency against clients" --out clients.svg clients.json
          chainkv bench chart --x mix --log-latency --label chainkv,zookeeper --out mix.svg mix.json

        Exit codes: 0 written, 2 usage error, 3 runtime error (a file unreadable or not bench JSON).
        """
    )

    @Option(help: "Dimension on the x axis: clients, pipeline, inflight, entries, sizes, mix, distribution, nodes.") var x: String
    @Option(help: "SVG file to write.") var out: String
    @Option(help: "Chart title.") var title: String?
    @Option(help: "Only results with this tag.") var tag: String?
    @Option(help: "Only results with this label (comma list).") var label: String?
    @Flag(help: "Logarithmic latency axis.") var logLatency = false
    @Argument(help: "Result files written by `chainkv bench --json-file`.") var files: [String]

    func validate() throws {
        let dims = ["clients", "pipeline", "inflight", "entries", "sizes", "mix", "distribution", "nodes"]
        guard dims.contains(x) else { throw ValidationError("--x: one of \(dims.joined(separator: ", "))") }
        guard !files.isEmpty else { throw ValidationError("give at least one result file") }
    }

    func run() throws {
        var points = try BenchFormat.load(files)
        if let tag { points = points.filter { $0.tag == tag } }
        if let label {
            let labels = Set(label.split(separator: ",").map(String.init))
            points = points.filter { labels.contains($0.label) }
        }
        guard !points.isEmpty else { throw BenchError("no results to draw (check --tag/--label)") }
        let svg = BenchSVG.figure(points: points, x: x, title: title ?? "chainkv bench: against \(x)", logLatency: logLatency)
        try Data(svg.utf8).write(to: URL(fileURLWithPath: out))
        benchStderr("bench: wrote \(out)\n")
    }
}

enum BenchSVG {
    struct Series {
        var name: String
        var op: String
        var throughput: [String: Double] = [:]
        var p50: [String: Double] = [:]
        var p99: [String: Double] = [:]
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    static func xLabel(_ x: String) -> String {
        switch x {
        case "sizes": return "key/value size (bytes)"
        case "mix": return "get:put mix"
        case "entries": return "database entries"
        case "clients": return "closed-loop clients"
        case "pipeline": return "requests in flight per client"
        case "inflight": return "requests in flight (clients × pipeline)"
        case "nodes": return "servers"
        default: return x
        }
    }

    static func figure(points: [BenchPoint], x: String, title: String, logLatency: Bool) -> String {
        // Which other dimensions vary: they split the series.
        let dims = ["label", "nodes", "distribution", "mix", "sizes", "clients", "pipeline", "entries"].filter { $0 != x && !(x == "inflight" && ($0 == "clients" || $0 == "pipeline")) }
            // Short keys can cap the entries (only 3844 2-byte keys exist): not a series of its own.
            .filter { !(x == "sizes" && $0 == "entries") }
        let varying = dims.filter { d in Set(points.map { value($0, d) }).count > 1 }
        var xs: [String] = []
        var series: [String: Series] = [:]
        var order: [String] = []
        for p in points {
            let xv = p.dimension(x)
            if !xs.contains(xv) { xs.append(xv) }
            for op in BenchFormat.opOrder(p) {
                let parts = varying.map { d -> String in
                    let v = value(p, d)
                    switch d {
                    case "label": return v
                    case "nodes": return "\(v) servers"
                    case "clients": return "\(v) clients"
                    case "pipeline": return "pipeline \(v)"
                    case "entries": return "\(v) entries"
                    case "mix": return "mix \(v)"
                    default: return v
                    }
                }
                let key = (parts + [op]).joined(separator: " ")
                if series[key] == nil { series[key] = Series(name: key, op: op); order.append(key) }
                let s = p.operations[op]!
                // Several results for one x (repeated runs): keep the last.
                series[key]!.throughput[xv] = s.throughput
                series[key]!.p50[xv] = s.p50Ms
                series[key]!.p99[xv] = s.p99Ms
            }
        }
        if xs.allSatisfy({ Double($0) != nil }) { xs.sort { Double($0)! < Double($1)! } }
        if x == "sizes" { xs.sort { (Int($0.split(separator: "/")[0]) ?? 0, Int($0.split(separator: "/")[1]) ?? 0) < (Int($1.split(separator: "/")[0]) ?? 0, Int($1.split(separator: "/")[1]) ?? 0) } }
        if x == "mix" { xs.sort { (Int($0.split(separator: ":")[0]) ?? 0) < (Int($1.split(separator: ":")[0]) ?? 0) } }

        let width = 1000.0, panelW = 380.0, panelH = 300.0, top = 60.0, left1 = 90.0, left2 = 580.0
        let legendTop = top + panelH + 70
        let legendRows = (order.count + 1) / 2
        let height = legendTop + Double(legendRows) * 20 + 40
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="24" text-anchor="middle" font-size="16" font-weight="bold">\(escape(title))</text>

        """
        let thrMax = order.flatMap { series[$0]!.throughput.values }.max() ?? 1
        let latValues = order.flatMap { Array(series[$0]!.p99.values) + Array(series[$0]!.p50.values) }.filter { $0 > 0 }
        let latMax = latValues.max() ?? 1
        let latMin = latValues.min() ?? 0.01

        svg += panel(x0: left1, y0: top, w: panelW, h: panelH, xs: xs, xTitle: xLabel(x), yTitle: "throughput (ops/s)",
                     yAxis: .linear(niceMax(thrMax)), lines: order.enumerated().map { i, k in
                         (palette[i % palette.count], "", series[k]!.throughput)
                     })
        let latAxis: Axis = logLatency ? .log(pow(10, floor(log10(latMin))), pow(10, ceil(log10(latMax)))) : .linear(niceMax(latMax))
        svg += panel(x0: left2, y0: top, w: panelW, h: panelH, xs: xs, xTitle: xLabel(x), yTitle: "latency (ms): p50 solid, p99 dashed",
                     yAxis: latAxis, lines: order.enumerated().flatMap { i, k in
                         [(palette[i % palette.count], "", series[k]!.p50), (palette[i % palette.count], "6,4", series[k]!.p99)]
                     })
        for (i, k) in order.enumerated() {
            let col = Double(i % 2), row = Double(i / 2)
            let lx = left1 + col * 460, ly = legendTop + row * 20
            svg += "<line x1=\"\(lx)\" y1=\"\(ly - 4)\" x2=\"\(lx + 30)\" y2=\"\(ly - 4)\" stroke=\"\(palette[i % palette.count])\" stroke-width=\"2.5\"/>"
            svg += "<circle cx=\"\(lx + 15)\" cy=\"\(ly - 4)\" r=\"3\" fill=\"\(palette[i % palette.count])\"/>"
            svg += "<text x=\"\(lx + 38)\" y=\"\(ly)\">\(escape(k))</text>\n"
        }
        let meta = points.first.map { "\($0.host), \($0.cores) cores, \($0.startedAt)" } ?? ""
        svg += "<text x=\"\(width - 10)\" y=\"\(height - 10)\" text-anchor=\"end\" font-size=\"10\" fill=\"#666\">\(escape(meta))</text>\n"
        svg += "</svg>\n"
        return svg
    }

    static func value(_ p: BenchPoint, _ d: String) -> String {
        d == "label" ? p.label : p.dimension(d)
    }

    enum Axis {
        case linear(Double)
        case log(Double, Double)
    }

    /// One panel: axes, grid, ticks and the lines (color, dash pattern, values by x).
    static func panel(x0: Double, y0: Double, w: Double, h: Double, xs: [String], xTitle: String, yTitle: String,
                      yAxis: Axis, lines: [(String, String, [String: Double])]) -> String {
        var s = ""
        let step = xs.count > 1 ? w / Double(xs.count - 1) : 0
        func px(_ i: Int) -> Double { xs.count > 1 ? x0 + Double(i) * step : x0 + w / 2 }
        func py(_ v: Double) -> Double {
            switch yAxis {
            case .linear(let max): return y0 + h - (max > 0 ? v / max : 0) * h
            case .log(let lo, let hi):
                let f = (log10(Swift.max(v, lo)) - log10(lo)) / (log10(hi) - log10(lo))
                return y0 + h - f * h
            }
        }
        // Grid and y ticks.
        var ticks: [Double] = []
        switch yAxis {
        case .linear(let max): ticks = (0...5).map { max * Double($0) / 5 }
        case .log(let lo, let hi):
            var t = lo
            while t <= hi * 1.0001 { ticks.append(t); t *= 10 }
        }
        for t in ticks {
            let y = py(t)
            s += "<line x1=\"\(x0)\" y1=\"\(y)\" x2=\"\(x0 + w)\" y2=\"\(y)\" stroke=\"#e0e0e0\"/>"
            s += "<text x=\"\(x0 - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(tickLabel(t))</text>\n"
        }
        for (i, xv) in xs.enumerated() {
            s += "<line x1=\"\(px(i))\" y1=\"\(y0 + h)\" x2=\"\(px(i))\" y2=\"\(y0 + h + 5)\" stroke=\"black\"/>"
            s += "<text x=\"\(px(i))\" y=\"\(y0 + h + 18)\" text-anchor=\"middle\">\(escape(xv))</text>\n"
        }
        s += frame(x0: x0, y0: y0, w: w, h: h, xTitle: xTitle, yTitle: yTitle)
        for (color, dash, values) in lines {
            let pts = xs.enumerated().compactMap { i, xv in values[xv].map { (px(i), py($0)) } }
            guard !pts.isEmpty else { continue }
            let path = pts.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
            let dashAttr = dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\""
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dashAttr)/>"
            for (x, y) in pts {
                s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" ", x, y) + "fill=\"\(color)\"/>"
            }
            s += "\n"
        }
        return s
    }

    /// A panel's x and y axis lines and their titles (the y title turned upright along the axis).
    static func frame(x0: Double, y0: Double, w: Double, h: Double, xTitle: String, yTitle: String) -> String {
        var s = "<line x1=\"\(x0)\" y1=\"\(y0 + h)\" x2=\"\(x0 + w)\" y2=\"\(y0 + h)\" stroke=\"black\"/>"
        s += "<line x1=\"\(x0)\" y1=\"\(y0)\" x2=\"\(x0)\" y2=\"\(y0 + h)\" stroke=\"black\"/>\n"
        s += "<text x=\"\(x0 + w / 2)\" y=\"\(y0 + h + 40)\" text-anchor=\"middle\">\(escape(xTitle))</text>\n"
        s += "<text x=\"\(x0 - 60)\" y=\"\(y0 + h / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 \(x0 - 60) \(y0 + h / 2))\">\(escape(yTitle))</text>\n"
        return s
    }

    static func niceMax(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        let mag = pow(10, floor(log10(v)))
        for m in [1.0, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10] where m * mag >= v { return m * mag }
        return 10 * mag
    }

    static func tickLabel(_ v: Double) -> String {
        if v == 0 { return "0" }
        if v >= 1_000_000 { return String(format: "%gM", v / 1_000_000) }
        if v >= 10_000 { return String(format: "%gk", v / 1000) }
        if v >= 1 { return String(format: "%g", (v * 100).rounded() / 100) }
        return String(format: "%g", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

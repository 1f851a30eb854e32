import Foundation

/// failover.svg: throughput over time across a kill, like the paper's failure figures. Left,
/// successful writes per second of the closed-loop writer; right, reads per second of the reader
/// (chainkv only: the ZooKeeper phase runs a writer alone). One line per system, chain size and
/// role among `roles`: the kill with the median write unavailability of that group (a real kill,
/// not an average, which would smear the outage over the spread of recovery times).
enum BenchFailoverChart {
    /// Roles drawn: the kills that stop writes (the head's) and ZooKeeper's leader, its counterpart.
    static let roles: Set<String> = ["head", "leader+head", "leader"]

    struct Line {
        var name: String
        var write: BenchFailoverRate
        var read: BenchFailoverRate?
    }

    static func lines(_ file: BenchFailoverFile) -> [Line] {
        var out: [Line] = []
        for group in file.summary where roles.contains(group.role) && (group.role != "leader" || group.system == "zookeeper") {
            let kills = file.kills.filter {
                $0.system == group.system && $0.servers == group.servers && $0.role == group.role && $0.write.rate != nil
            }.sorted { $0.write.unavailableMs < $1.write.unavailableMs }
            guard !kills.isEmpty else { continue }
            let typical = kills[(kills.count - 1) / 2]
            let name = "\(group.system) \(group.servers) servers, \(group.role) killed (\(String(format: "%.0f", typical.write.unavailableMs)) ms)"
            out.append(Line(name: name, write: typical.write.rate!, read: typical.read?.rate))
        }
        return out
    }

    /// The figure, or nil when no kill of the drawn roles recorded a rate.
    static func svg(_ file: BenchFailoverFile) -> String? {
        let lines = lines(file)
        guard !lines.isEmpty else { return nil }
        let width = 1000.0, panelW = 380.0, panelH = 280.0, top = 60.0
        let legendTop = top + panelH + 70
        let height = legendTop + Double(lines.count) * 20 + 30
        let xMin = -BenchFailoverRate.beforeMs, xMax = BenchFailoverRate.afterMs
        let writeMax = BenchSVG.niceMax(lines.flatMap(\.write.opsPerSecond).max() ?? 1)
        let readMax = BenchSVG.niceMax(lines.compactMap(\.read).flatMap(\.opsPerSecond).max() ?? 1)
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="24" text-anchor="middle" font-size="16" font-weight="bold">Throughput across a kill (one closed-loop client each, \(Int(BenchFailoverRate.bucketMs)) ms buckets)</text>

        """
        let panels: [(Double, String, Double, (Line) -> BenchFailoverRate?)] = [
            (90, "writes/s", writeMax, { $0.write }), (580, "reads/s (chainkv)", readMax, { $0.read }),
        ]
        for (x0, title, yMax, pick) in panels {
            svg += axes(x0: x0, y0: top, w: panelW, h: panelH, xMin: xMin, xMax: xMax, yMax: yMax, yTitle: title)
            for (i, line) in lines.enumerated() {
                guard let rate = pick(line) else { continue }
                let color = BenchSVG.palette[i % BenchSVG.palette.count]
                let points = rate.opsPerSecond.enumerated().map { b, v -> String in
                    let t = rate.fromMs + (Double(b) + 0.5) * rate.bucketMs
                    let px = x0 + (t - xMin) / (xMax - xMin) * panelW
                    let py = top + panelH - min(v, yMax) / yMax * panelH
                    return String(format: "%.1f,%.1f", px, py)
                }
                svg += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"/>\n"
            }
        }
        for (i, line) in lines.enumerated() {
            let y = legendTop + Double(i) * 20
            svg += "<line x1=\"90\" y1=\"\(y - 4)\" x2=\"120\" y2=\"\(y - 4)\" stroke=\"\(BenchSVG.palette[i % BenchSVG.palette.count])\" stroke-width=\"2.5\"/>"
            svg += "<text x=\"128\" y=\"\(y)\">\(BenchSVG.escape(line.name))</text>\n"
        }
        let meta = "\(file.host), \(file.cores) cores, \(file.startedAt)\(file.commit.map { ", commit \($0)" } ?? ""); the median kill of each group (unavailability in brackets)"
        svg += "<text x=\"\(width - 10)\" y=\"\(height - 10)\" text-anchor=\"end\" font-size=\"10\" fill=\"#666\">\(BenchSVG.escape(meta))</text>\n</svg>\n"
        return svg
    }

    /// A panel's grid, ticks every 500 ms, the kill's dashed line at 0, and the frame (`BenchSVG.frame`).
    private static func axes(x0: Double, y0: Double, w: Double, h: Double, xMin: Double, xMax: Double,
                             yMax: Double, yTitle: String) -> String {
        var s = ""
        for k in 0...5 {
            let v = yMax * Double(k) / 5, y = y0 + h - Double(k) / 5 * h
            s += "<line x1=\"\(x0)\" y1=\"\(y)\" x2=\"\(x0 + w)\" y2=\"\(y)\" stroke=\"#e0e0e0\"/>"
            s += "<text x=\"\(x0 - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(BenchSVG.tickLabel(v))</text>\n"
        }
        var t = xMin
        while t <= xMax {
            let x = x0 + (t - xMin) / (xMax - xMin) * w
            s += "<line x1=\"\(x)\" y1=\"\(y0 + h)\" x2=\"\(x)\" y2=\"\(y0 + h + 5)\" stroke=\"black\"/>"
            s += "<text x=\"\(x)\" y=\"\(y0 + h + 18)\" text-anchor=\"middle\">\(String(format: "%g", t / 1000))</text>\n"
            t += 500
        }
        let kx = x0 + (0 - xMin) / (xMax - xMin) * w
        s += "<line x1=\"\(kx)\" y1=\"\(y0)\" x2=\"\(kx)\" y2=\"\(y0 + h)\" stroke=\"#555\" stroke-dasharray=\"4,4\"/>"
        s += "<text x=\"\(kx + 4)\" y=\"\(y0 + 12)\" fill=\"#555\">kill</text>\n"
        s += BenchSVG.frame(x0: x0, y0: y0, w: w, h: h, xTitle: "seconds from the kill", yTitle: yTitle)
        return s
    }
}

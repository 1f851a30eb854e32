/// Plain-text tables for reports: columns padded to their widest cell, two spaces apart.
enum TextTable {
    /// Renders `rows` (the first is the header) one line each, with a rule under the header.
    static func render(_ rows: [[String]]) -> String {
        precondition(!rows.isEmpty && rows.allSatisfy { $0.count == rows[0].count }, "rows of equal width")
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (column, cell) in cells.enumerated() {
                if column > 0 { text += "  " }
                text += cell
                if column < cells.count - 1 { text += String(repeating: " ", count: widths[column] - cell.count) }
            }
            // The last column is not padded; trim what an empty last cell leaves behind.
            while text.last == " " { text.removeLast() }
            return text
        }
        var lines = [line(rows[0]), line(widths.map { String(repeating: "-", count: $0) })]
        lines += rows.dropFirst().map(line)
        return lines.joined(separator: "\n")
    }
}

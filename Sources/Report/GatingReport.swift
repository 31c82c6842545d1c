import Cytometry

/// Renders per-gate counts of a ``GatingResult`` as an aligned table.
public enum GatingReport {
    /// One line per gate: id, path, count, % of parent, plus a header and the event total.
    public static func text(_ result: GatingResult, file: String) -> String {
        var lines = ["File: \(file)", "Events: \(result.eventCount)", ""]
        let rows = result.gates.map { gate in
            [gate.id, gate.path, String(gate.count), formatPercent(gate.percentOfParent), String(gate.parentCount)]
        }
        lines += table(header: ["gate", "path", "count", "% of parent", "parent count"], rows: rows)
        return lines.joined(separator: "\n")
    }

    static func formatPercent(_ value: Double) -> String {
        let scaled = (value * 100).rounded() / 100
        var text = String(scaled)
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < 2 { text += String(repeating: "0", count: 2 - decimals) }
        } else {
            text += ".00"
        }
        return text
    }
}

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

    /// A FlowJo workspace's gates on one file: the same columns, the gate's name for its id, and
    /// FlowJo's stored count beside the computed one ("—" where FlowJo stored none; a "≠" marks a
    /// difference, which docs/flowjo.md explains).
    public static func text(_ result: GatingResult, file: String, sample: String, names: [String: String], storedCounts: [String: Int]) -> String {
        var lines = ["File: \(file)", "Workspace sample: \(sample)", "Events: \(result.eventCount)", ""]
        let rows = result.gates.map { gate -> [String] in
            let name = names[gate.id] ?? gate.id
            let stored = storedCounts[gate.id].map { $0 == gate.count ? String($0) : "\($0) ≠" } ?? "—"
            return [name, gate.path, String(gate.count), formatPercent(gate.percentOfParent), String(gate.parentCount), stored]
        }
        lines += table(header: ["gate", "path", "count", "% of parent", "parent count", "FlowJo count"], rows: rows)
        return lines.joined(separator: "\n")
    }

    /// A workspace without FCS files: each sample, its scales and matrix, and its gate tree indented
    /// by depth with FlowJo's stored counts.
    public static func listing(_ workspace: FlowJoWorkspace) -> String {
        var lines = ["Workspace: \(workspace.file)" + (workspace.flowJoVersion.map { " (FlowJo \($0))" } ?? ""),
                     "Groups: " + workspace.groups.map { "\($0.name) (\($0.sampleIDs.count))" }.joined(separator: ", "), ""]
        for sample in workspace.samples {
            lines.append("Sample \(sample.id): \(sample.name)" + (sample.storedCount.map { ", \($0) events" } ?? ""))
            if let uri = sample.uri { lines.append("  data set: \(uri)") }
            if let matrix = sample.matrix {
                lines.append("  compensation: \(matrix.name), \(matrix.detectors.count) detectors, prefix \"\(matrix.prefix)\"")
            }
            let kinds = Dictionary(grouping: sample.scales.values, by: \.kind).map { "\($0.value.count) \($0.key)" }.sorted()
            if !kinds.isEmpty { lines.append("  scales: " + kinds.joined(separator: ", ")) }
            let rows = sample.populations.map { population -> [String] in
                let indent = String(repeating: "  ", count: population.path.count - 1)
                let kind: String
                switch population.shape {
                case .rectangle(let d, _, _, let inside): kind = "rectangle (\(d.joined(separator: ", ")))" + (inside ? "" : " outside")
                case .polygon(let x, let y, let v, let inside): kind = "polygon \(v.count) (\(x), \(y))" + (inside ? "" : " outside")
                case .ellipse(let x, let y, _, _, let inside): kind = "ellipse (\(x), \(y))" + (inside ? "" : " outside")
                case .boolean(let op, let dependents): kind = "\(op.rawValue) of \(dependents.count)"
                }
                return [indent + population.name, kind, population.storedCount.map(String.init) ?? "—"]
            }
            if rows.isEmpty { lines.append("  no gates") } else {
                lines += table(header: ["population", "gate", "FlowJo count"], rows: rows).map { "  " + $0 }
            }
            lines.append("")
        }
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

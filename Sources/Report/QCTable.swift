import Foundation
import MRD

/// The acquisition-QC overview of many files, as `flowmrd qc` prints it: an aligned table, CSV
/// (RFC 4180) or JSON, one row per file; a file that could not be read is a row with its error.
public struct QCTable: Sendable {
    /// One file: its QC, or the error that stopped it from being read.
    public struct Row: Sendable, Encodable {
        public let file: String
        public let qc: AcquisitionQC?
        public let error: String?

        public init(file: String, qc: AcquisitionQC?, error: String?) {
            self.file = file
            self.qc = qc
            self.error = error
        }

        /// pass, fail, or error.
        public var status: String { qc.map { $0.passed ? "pass" : "fail" } ?? "error" }
    }

    public let rows: [Row]

    public init(rows: [Row]) { self.rows = rows }

    /// Whether every file was read and passed.
    public var allPassed: Bool { rows.allSatisfy { $0.qc?.passed == true } }

    /// Hemodilution indicator names, in the order of the first file that has them.
    private var indicatorNames: [String] { rows.lazy.compactMap(\.qc).first?.hemodilution.map(\.name) ?? [] }

    private static let headers = ["file", "QC", "$TOT", "read", "time s", "events/s", "flow", "singlets", "non-debris", "nucleated",
                                  "≥ min", "LOD %", "LLOQ %"]

    /// The cells of one row (text and CSV share them).
    private func cells(_ row: Row, indicators: [String]) -> [String] {
        guard let q = row.qc else {
            return [row.file, "ERROR"] + [String](repeating: "", count: Self.headers.count - 2 + indicators.count + 1)
        }
        func int(_ x: Int?) -> String { x.map(String.init) ?? "—" }
        func number(_ x: Double?, _ format: String) -> String { x.map { String(format: format, $0) } ?? "—" }
        let t = q.timeStability
        var flow = t.verdict
        if t.verdict != "not_assessed" && (t.burstBins > 0 || t.clogBins > 0) { flow += " (\(t.burstBins) burst, \(t.clogBins) clog bins)" }
        var cells = [row.file, q.passed ? "PASS" : "FAIL", int(q.declaredEvents), String(q.eventsRead), number(q.acquisitionSeconds, "%.1f"),
                     number(q.meanEventsPerSecond, "%.0f"), flow, int(q.singlets), int(q.nonDebris), String(q.nucleatedCells),
                     q.minimumMet ? "yes" : "no", number(q.lodPercent, "%.2g"), number(q.lloqPercent, "%.2g")]
        for name in indicators {
            if let i = q.hemodilution.first(where: { $0.name == name }) {
                cells.append(String(format: "%.3g", i.percentOfNucleated) + (i.belowLimit ? " <" : ""))
            } else {
                cells.append("—")
            }
        }
        cells.append(q.hemodiluted ? "yes" : "no")
        return cells
    }

    private func headerRow(_ indicators: [String]) -> [String] {
        Self.headers + indicators.map { "\($0) %" } + ["hemodiluted"]
    }

    /// An aligned table, then per file its failures, errors and parser warnings.
    public func text() -> String {
        let indicators = indicatorNames
        let table = [headerRow(indicators)] + rows.map { cells($0, indicators: indicators) }
        var widths = [Int](repeating: 0, count: table[0].count)
        for line in table { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var lines = table.map { line in
            line.enumerated().map { i, cell in
                i == 0 || i == 6 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                                 : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        if let limits = rows.lazy.compactMap(\.qc).first?.hemodilution, !limits.isEmpty {
            lines.append("")
            lines.append("hemodilution limits (% of nucleated cells): " + limits.map { "\($0.name) ≥ \(String(format: "%g", $0.minPercent))" }.joined(separator: ", ")
                         + "; \"<\" marks a value below its limit")
        }
        for row in rows {
            var notes: [String] = []
            if let error = row.error { notes.append("error: \(error)") }
            if let q = row.qc {
                notes += q.failures.map { "fail: \($0)" }
                notes += q.parserWarnings.map { "warning: \($0)" }
            }
            if !notes.isEmpty {
                lines.append("")
                lines.append(row.file)
                lines += notes.map { "  " + $0 }
            }
        }
        let failed = rows.filter { $0.status != "pass" }.count
        lines.append("")
        lines.append("\(rows.count) file(s): \(rows.count - failed) passed, \(failed) failed QC or could not be read")
        return lines.joined(separator: "\n")
    }

    /// The CSV columns: plain identifiers (the table's headers spelled for scripts), the
    /// hemodilution indicators as `NAME_percent`.
    private static let csvHeaders = ["file", "status", "declared_events", "events_read", "acquisition_seconds", "events_per_second", "flow",
                                     "singlets", "non_debris", "nucleated_cells", "minimum_met", "lod_percent", "lloq_percent"]

    /// "B-cell precursors" → "b_cell_precursors".
    static func identifier(_ name: String) -> String {
        let words = name.lowercased().split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
        return words.joined(separator: "_")
    }

    /// One header line, one line per file; failures, errors and warnings joined with "; ".
    public func csv() -> String {
        let indicators = indicatorNames
        let header = Self.csvHeaders + indicators.map { Self.identifier($0) + "_percent" } + ["hemodiluted", "failures", "parser_warnings"]
        var lines = [header.map(Self.csvField).joined(separator: ",")]
        for row in rows {
            var line = cells(row, indicators: indicators).map { $0.hasSuffix(" <") ? String($0.dropLast(2)) : $0 }
            line[1] = row.status
            line.append(row.error ?? (row.qc?.failures ?? []).joined(separator: "; "))
            line.append((row.qc?.parserWarnings ?? []).joined(separator: "; "))
            lines.append(line.map { $0 == "—" ? "" : $0 }.map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The JSON document: `{"schema": 1, "kind": "flowmrd-qc", "all_passed": …, "files": [{file, status, qc, error}]}`.
    public func json() throws -> String {
        struct Entry: Encodable { let file: String; let status: String; let qc: AcquisitionQC?; let error: String? }
        struct Document: Encodable {
            let schema = 1, kind = "flowmrd-qc"
            let allPassed: Bool
            let files: [Entry]
            enum CodingKeys: String, CodingKey { case schema, kind, files, allPassed = "all_passed" }
        }
        let document = Document(allPassed: allPassed, files: rows.map { Entry(file: $0.file, status: $0.status, qc: $0.qc, error: $0.error) })
        return try StableJSON.encode(document)
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// JSON with sorted keys and no escaped slashes, so the same input gives byte-identical output.
public enum StableJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

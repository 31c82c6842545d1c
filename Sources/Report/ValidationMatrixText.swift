import Foundation
import MRD
import Synthetic

extension ValidationMatrixReport {
    /// The matrix as Markdown: summary figures, the confusion table per condition, and every
    /// wrong call with the command that regenerates its file. Deterministic: no times, no paths.
    public var markdown: String {
        var lines: [String] = []
        let fp = falsePositives
        lines.append("## Validation matrix")
        lines.append("")
        lines.append("\(outcomes.count) files: \(plan.conditions.count) conditions × MRD \(plan.levels.map(Self.level).joined(separator: ", ")) × \(plan.seedsPerCell) seeds; \(plan.events.formatted) events per file (\(plan.lowLevelEvents.formatted) below 5×10⁻⁵); first seed \(plan.firstSeed).")
        lines.append("")
        lines.append("| figure | value |")
        lines.append("|---|---|")
        lines.append("| false-positive rate (MRD-negative files called positive) | \(fp.count) / \(fp.of) = \(Self.percent(fp.count, fp.of)) (exact 95% CI \(Self.fixed(100 * fp.interval.lower))–\(Self.fixed(100 * fp.interval.upper))%) |")
        let high = sensitivity(clone: 50...Int.max), low = sensitivity(clone: 20...49)
        lines.append("| sensitivity, clones ≥ 50 events | \(high.detected) / \(high.of) = \(Self.percent(high.detected, high.of)) |")
        lines.append("| sensitivity, clones 20–49 events | \(low.detected) / \(low.of) = \(Self.percent(low.detected, low.of)) |")
        if let r = recovery {
            lines.append("| recovery (counted / true) of positive calls | median \(Self.fixed(r.median)), 5–95% \(Self.fixed(r.p5))–\(Self.fixed(r.p95)); inside truth ± 1.96√truth: \(r.withinPoisson) / \(r.of) |")
        } else {
            lines.append("| recovery (counted / true) of positive calls | no positive call on a file with a clone |")
        }
        if let m = bandMisses {
            lines.append("| the clone's events in the counted clusters (labels; positive calls with a clone) | median \(Self.fixed(m.inside)) of the clone; of the \(m.outside) counts outside truth ± 1.96√truth, \(m.lost) are undercounts whose counted clusters miss more of the clone than that (\(m.lostEvents) events, \(m.lostAmongNormal) of them among the normal plasma cells); \(m.noise) hold it within that or overcount (the error is mostly the chain noise of the normal cells counted with it) |")
        }
        let coverage = intervalCoverage
        if coverage.of > 0 {
            lines.append("| reported 95% interval of the MRD % holding the truth (positive calls with a clone) | \(coverage.covered) / \(coverage.of) = \(Self.percent(coverage.covered, coverage.of)) |")
        }
        let normal = normalEventsCountedAsMRD
        lines.append("| normal events counted as MRD in MRD-negative files | \(normal.events) events in \(normal.files) of \(fp.of) files |")
        let wrong = wrongCalls
        lines.append("| wrong calls | \(wrong.count) of \(outcomes.count) files |")
        var byVerdict: [String] = []
        for verdict in MatrixVerdict.allCases where verdict != .correct {
            let n = outcomes.filter { $0.verdict == verdict }.count
            if n > 0 { byVerdict.append("\(verdict.rawValue): \(n)") }
        }
        lines.append("| by kind | \(byVerdict.isEmpty ? "none" : byVerdict.joined(separator: "; ")) |")
        lines.append("")
        lines.append("### Calls per condition")
        lines.append("")
        lines.append("| condition | truth | files | positive | positive < LLOQ | negative | not evaluable | error | wrong |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for row in confusion {
            let files = row.positive + row.belowLLOQ + row.negative + row.notEvaluable + row.errors
            lines.append("| \(row.condition) | \(row.truth) | \(files) | \(row.positive) | \(row.belowLLOQ) | \(row.negative) | \(row.notEvaluable) | \(row.errors) | \(row.wrong) |")
        }
        lines.append("")
        lines.append("### Wrong calls")
        lines.append("")
        lines.append(contentsOf: table(wrong))
        lines.append("")
        lines.append("### Clones of 20–49 events not called positive (below the LLOQ; not counted as wrong)")
        lines.append("")
        lines.append(contentsOf: table(missesBelowLLOQ))
        return lines.joined(separator: "\n") + "\n"
    }

    private func table(_ files: [MatrixOutcome]) -> [String] {
        guard !files.isEmpty else { return ["None."] }
        var lines = ["| condition | MRD | seed | clone events | counted | call | verdict | regenerate with |", "|---|---|---|---|---|---|---|---|"]
        for o in files {
            let call = o.measurement.call?.rawValue ?? "error: \(o.error ?? "")"
            lines.append("| \(o.condition) | \(Self.level(o.level)) | \(o.seed) | \(o.cloneEvents) | \(o.measurement.counted) | \(call) | \(o.verdict.rawValue) | `flowmrd synth F.fcs \(o.synthArguments.joined(separator: " "))` |")
        }
        return lines
    }

    /// Tab-separated outcomes, one line a file, for spreadsheets.
    public var tsv: String {
        var lines = ["condition\tlevel\tseed\tevents\tclone_events\tnucleated_truth\tcall\tcounted\tnucleated_measured\tverdict\tsynth_arguments\tmrd_ci95_percent\tclone_in_counted\tclone_among_normal_pc"]
        for o in outcomes {
            lines.append([o.condition, Self.level(o.level), String(o.seed), String(o.events), String(o.cloneEvents), String(o.nucleated),
                          o.measurement.call?.rawValue ?? "error", String(o.measurement.counted), String(o.measurement.nucleated),
                          o.verdict.rawValue, o.synthArguments.joined(separator: " "),
                          o.measurement.interval.map { $0.map { String($0) }.joined(separator: "–") } ?? "",
                          Self.optional(o.measurement.cloneInCounted), Self.optional(o.measurement.cloneAmongNormal)].joined(separator: "\t"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func optional(_ n: Int?) -> String { n.map { String($0) } ?? "" }
    static func level(_ x: Double) -> String { x == 0 ? "0" : String(format: "%.0e", x) }
    static func fixed(_ x: Double) -> String { String(format: "%.3f", x) }
    static func percent(_ k: Int, _ n: Int) -> String { n > 0 ? String(format: "%.1f%%", 100 * Double(k) / Double(n)) : "–" }
}

extension Int {
    /// 2,000,000.
    var formatted: String {
        let digits = String(self)
        var out = ""
        for (k, c) in digits.reversed().enumerated() {
            if k > 0 && k % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}

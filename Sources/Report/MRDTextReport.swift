import Foundation
import MRD

/// The readable summary of an ``MRDResult``: call first, then the figures a reviewer checks
/// (denominator, plasma cells, aberrant cluster, sensitivity), the gate counts, the
/// data-driven boundaries, and every warning.
public enum MRDTextReport {
    public static func render(_ r: MRDResult) -> String {
        var lines: [String] = []
        func pct(_ x: Double?) -> String { x.map { String(format: "%.4g%%", $0) } ?? "—" }
        lines.append("\(r.file)")
        lines.append("  template \(r.template) \(r.templateVersion); \(r.software)")
        if let n = r.normalReference {
            lines.append("  normal reference \(n.file)\(n.synthetic ? " (SYNTHETIC: built from generated marrows, not a lab's own)" : ""), \(n.files) marrows, content SHA-256 \(n.contentSHA256.prefix(16))…")
        }
        if r.call == .notEvaluable && !r.notEvaluableReasons.isEmpty {
            // Each reason once, under the call; the QC lines below do not repeat them.
            lines.append("  CALL: NOT EVALUABLE")
            for reason in r.notEvaluableReasons { lines.append("    - \(reason)") }
            let listed = "Not evaluable: " + r.notEvaluableReasons.joined(separator: "; ")
            if r.callText.hasPrefix(listed), r.callText.count > listed.count {
                lines.append("    (\(r.callText.dropFirst(listed.count).drop { $0 == ";" || $0 == " " }))")
            }
        } else {
            lines.append("  CALL: \(label(r.call)) — \(r.callText)")
        }
        if r.call != .notEvaluable || r.nucleatedCells > 0 {
            let unquantified = r.mrdPercent == nil && (r.call == .positive || r.call == .positiveBelowLLOQ)
            lines.append(unquantified ? "  MRD: positive, not quantified (a gate the counts rest on is switched off; see the call)"
                         : "  MRD: \(pct(r.mrdPercent)) of nucleated cells" + (r.mrdCI95Percent.map { " (95% CI \(pct($0[0]))–\(pct($0[1])))" } ?? ""))
            lines.append("  events: \(r.totalEvents) acquired; nucleated cells (denominator): \(r.nucleatedCells)")
            lines.append("  plasma cells: \(r.plasmaCells.count) (\(pct(r.plasmaCells.percentOfNucleated)) of nucleated)")
            lines.append("    normal:   \(r.normalPC.count) (\(pct(r.normalPC.percentOfPlasmaCells)) of PCs, \(pct(r.normalPC.percentOfNucleated)) of nucleated)")
            lines.append("    aberrant: \(r.aberrantPC.count) (\(pct(r.aberrantPC.percentOfPlasmaCells)) of PCs, \(pct(r.aberrantPC.percentOfNucleated)) of nucleated)"
                         + (r.aberrantClusters.isEmpty ? "" : "; counted from clusters of \(r.aberrantClusters.map(String.init).joined(separator: ", ")) events of both light chains")
                         + (r.unclusteredAberrantEvents > 0 ? "; \(r.unclusteredAberrantEvents) unclustered aberrant-phenotype events not counted" : ""))
            if r.unreadPC.count > 0 {
                lines.append("    unread:   \(r.unreadPC.count) (\(pct(r.unreadPC.percentOfPlasmaCells)) of PCs) in clusters reading too few light chains to be judged: neither normal nor aberrant")
            }
            let s = r.sensitivity
            lines.append("  sensitivity: LOD \(s.lodEvents) events = \(pct(s.lodPercent)), LLOQ \(s.lloqEvents) events = \(pct(s.lloqPercent)); reached \(s.reached.map { String(format: "%.1e", $0) } ?? "—") (target \(String(format: "%.0e", s.target)), \(s.met ? "met" : "not met: " + s.notMetBecause.joined(separator: "; ")))")
            if !r.phenotype.isEmpty {
                let uncertain = r.phenotype.filter { $0.uncertain == true }.map(\.marker)
                lines.append("  aberrant phenotype vs normal PCs: " + r.phenotype.map { "\($0.marker) \(symbol($0.pattern))" }.joined(separator: "  ")
                             + (uncertain.isEmpty ? "" : "; uncertain (the 95% interval of the clone's median reaches across the margin): " + uncertain.joined(separator: ", ")))
            }
            let l = r.lightChains
            lines.append("  light chain of the aberrant cluster: \(l.aberrant) (κ \(l.aberrantKappa), λ \(l.aberrantLambda)); other PCs κ \(l.normalKappa), λ \(l.normalLambda); reference κ:λ \(l.normalRatio.map { String(format: "%.2f", $0) } ?? "—")"
                         + (r.clonality?.lightChainReadLevel.map { String(format: "; a chain read above %.3f, the density valley above the unexpressed chains' mode", $0) } ?? ""))
            if let all = r.clonality?.plasmaCellKappaLambda { lines.append("  " + Self.compartmentLine(all)) }
        }
        lines += qcLines(r.qc, stated: r.notEvaluableReasons)
        if !r.gates.isEmpty {
            lines.append("  gates:")
            let width = r.gates.map(\.id.count).max() ?? 0
            for g in r.gates {
                lines.append("    " + g.id.padding(toLength: width, withPad: " ", startingAt: 0)
                             + String(format: " %10d  %7.3f%% of %@", g.count, g.percentOfParent, g.parent ?? "all events"))
            }
        }
        if !r.thresholds.isEmpty {
            lines.append("  data-driven boundaries:")
            for t in r.thresholds {
                let value = t.value.map { v in t.upper.map { String(format: "%.4g…%.4g", v, $0) } ?? String(format: "%.4g", v) } ?? "SWITCHED OFF"
                lines.append("    \(t.name) [\(t.marker), \(t.method)] = \(value) — \(t.detail)")
            }
        }
        for warning in r.warnings { lines.append("  warning: \(warning)") }
        return lines.joined(separator: "\n")
    }

    /// All plasma cells' κ:λ against the template's normal range, in words.
    static func compartmentLine(_ c: PlasmaCellLightChains) -> String {
        let verdict = c.outside.map { "OUTSIDE the normal range \(c.rangeText): at least \(c.monotypicExcess) monotypic \($0 == "kappa" ? "κ" : "λ") plasma cells" }
            ?? "within the normal range \(c.rangeText)"
        return "all plasma cells κ:λ \(c.ratio.map { String(format: "%.2f", $0) } ?? "—") (\(c.kappa):\(c.lambda)), " + verdict
    }

    /// The QC summary: verdict, acquisition, flow and hemodilution indicators.
    /// Failures among `stated` (the not-evaluable reasons, printed under the call) are not repeated.
    static func qcLines(_ q: AcquisitionQC, stated: [String] = []) -> [String] {
        let repeated = q.failures.filter { f in stated.contains { $0 == f || $0 == "acquisition QC: " + f || f == "not gated: " + $0 } }
        let fresh = q.failures.filter { !repeated.contains($0) }
        var lines = ["  QC: \(q.passed ? "PASS" : "FAIL")" + (fresh.isEmpty ? "" : " — " + fresh.joined(separator: "; "))
                     + (repeated.isEmpty ? "" : fresh.isEmpty ? " (reasons above)" : " (and the reasons above)")]
        var acquisition = "    acquisition: \(q.eventsRead) events read" + (q.declaredEvents.map { " ($TOT \($0))" } ?? " (no $TOT)")
        if let s = q.acquisitionSeconds, let rate = q.meanEventsPerSecond { acquisition += String(format: " in %.1f s, %.0f events/s", s, rate) }
        let t = q.timeStability
        acquisition += "; flow \(t.verdict)"
        if t.verdict != "not_assessed" {
            acquisition += " (\(t.bins) bins, \(t.burstBins) burst, \(t.clogBins) clog; \(t.excludedEvents) events excluded)"
        }
        lines.append(acquisition)
        if !q.hemodilution.isEmpty {
            if let score = q.marrowScore, let limit = q.marrowScoreLimit {
                lines.append(String(format: "    marrow-content score %.2f decades against the reference (hemodiluted below %.2f)", score, limit))
            }
            lines.append("    hemodilution" + (q.hemodiluted ? " FLAGGED" : "") + ": "
                         + q.hemodilution.map { "\($0.name) \(String(format: "%.3g", $0.percentOfNucleated))%" + ($0.belowLimit ? " (below \(String(format: "%g", $0.minPercent))%)" : "") }
                            .joined(separator: ", "))
        }
        return lines
    }

    static func label(_ call: MRDResult.Call) -> String {
        switch call {
        case .positive: return "POSITIVE"
        case .positiveBelowLLOQ: return "POSITIVE (below LLOQ)"
        case .negative: return "NEGATIVE"
        case .notEvaluable: return "NOT EVALUABLE"
        }
    }

    static func symbol(_ pattern: String) -> String {
        switch pattern {
        case "reduced": return "↓"
        case "increased": return "↑"
        case "normal": return "="
        default: return "?"
        }
    }
}

import Foundation
import MRD

/// The reviewer's report: one self-contained HTML file (inline CSS and SVG; no scripts, fonts
/// or network resources) with the sample and template identity, the call and MRD figures at
/// the top, the whole gate sequence as density dot plots with gates and counts, the
/// plasma-cell plots with normal and aberrant cells in two colours, QC and warnings.
///
/// Every plot carries its counts as data attributes (`data-population`, `data-count`,
/// `data-drawn`, `data-normal`, `data-aberrant`, and `data-gate`/`data-count` per gate) so a
/// test or a LIMS can check them against the JSON result. Same result and plots give
/// byte-identical HTML (no timestamps).
public enum HTMLReport {
    public static func render(_ analysis: MRDAnalysis) -> String {
        let r = analysis.result
        var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<meta name=\"generator\" content=\"\(e(r.software))\">\n"
        h += "<title>MRD report: \(e(name(r.file)))</title>\n<style>\n\(style)</style>\n</head>\n<body>\n"
        h += "<header><h1>Myeloma MRD report</h1><p class=\"file\">\(e(r.file))</p></header>\n"
        h += callSection(r)
        h += identitySection(r)
        h += populationSection(r)
        h += plotSection(analysis)
        h += qcSection(r.qc)
        h += gateSection(r)
        h += warningSection(r)
        h += "<footer>\(e(r.software)) · template \(e(r.template)) \(e(r.templateVersion)) · result schema \(r.schema) · self-contained: no scripts, fonts or network resources</footer>\n"
        h += "</body>\n</html>\n"
        return h
    }

    static func e(_ text: String) -> String { HTML.escape(text) }
    static func name(_ path: String) -> String { (path as NSString).lastPathComponent }
    static func pct(_ x: Double?) -> String { x.map { String(format: "%.4g%%", $0) } ?? "—" }

    static func callSection(_ r: MRDResult) -> String {
        let label: String
        switch r.call {
        case .positive: label = "MRD POSITIVE"
        case .positiveBelowLLOQ: label = "MRD POSITIVE (below LLOQ)"
        case .negative: label = "MRD NEGATIVE"
        case .notEvaluable: label = "NOT EVALUABLE"
        }
        var h = "<section id=\"call\" class=\"call call-\(r.call.rawValue)\" data-call=\"\(r.call.rawValue)\">\n"
        h += "<h2>\(label)</h2>\n<p>\(e(r.callText))</p>\n<dl class=\"figures\">"
        h += "<div><dt>MRD</dt><dd data-field=\"mrd_percent\">\(pct(r.mrdPercent))</dd></div>"
        if let ci = r.mrdCI95Percent { h += "<div><dt>95% CI</dt><dd>\(pct(ci[0]))–\(pct(ci[1]))</dd></div>" }
        h += "<div><dt>aberrant PCs</dt><dd data-field=\"aberrant_pc\">\(r.aberrantPC.count)</dd></div>"
        h += "<div><dt>nucleated cells</dt><dd data-field=\"nucleated_cells\">\(r.nucleatedCells)</dd></div>"
        let s = r.sensitivity
        h += "<div><dt>LOD (\(s.lodEvents) events)</dt><dd>\(pct(s.lodPercent))</dd></div>"
        h += "<div><dt>LLOQ (\(s.lloqEvents) events)</dt><dd>\(pct(s.lloqPercent))</dd></div>"
        h += "<div><dt>sensitivity reached</dt><dd>\(s.reached.map { String(format: "%.1e", $0) } ?? "—") (target \(String(format: "%.0e", s.target)), \(s.met ? "met" : "not met: " + e(s.notMetBecause.joined(separator: "; "))))</dd></div>"
        h += "<div><dt>QC</dt><dd class=\"\(r.qc.passed ? "pass" : "fail")\">\(r.qc.passed ? "pass" : "FAIL")</dd></div>"
        h += "</dl>\n"
        for reason in r.notEvaluableReasons { h += "<p class=\"reason\">Not evaluable: \(e(reason))</p>\n" }
        return h + "</section>\n"
    }

    static func identitySection(_ r: MRDResult) -> String {
        var rows: [(String, String)] = [("sample file", r.file), ("file SHA-256", r.fileSHA256 ?? "not computed"),
                                        ("events in file", String(r.totalEvents)),
                                        ("template", "\(r.template) \(r.templateVersion)"), ("template SHA-256", r.templateSHA256),
                                        ("software", r.software)]
        if let n = r.normalReference {
            rows.append(("normal reference", "\(n.file)\(n.synthetic ? " — SYNTHETIC (built from generated marrows, not a lab's own)" : "") · \(n.files) marrows · content SHA-256 \(n.contentSHA256)"))
        }
        if !r.channelAssignments.isEmpty { rows.append(("channels mapped by hand (--channel)", r.channelAssignments.sorted { $0.key < $1.key }.map { "\($0.key) → \($0.value)" }.joined(separator: " · "))) }
        if !r.panel.isEmpty { rows.append(("panel (marker → channel)", r.panel.sorted { $0.key < $1.key }.map { "\($0.key) → \($0.value)" }.joined(separator: " · "))) }
        return "<section id=\"identity\"><h2>Sample and template</h2>\n" + table(["", ""], rows.map { [$0.0, $0.1] }, header: false) + "</section>\n"
    }

    static func populationSection(_ r: MRDResult) -> String {
        var h = "<section id=\"populations\"><h2>Plasma cells</h2>\n"
        h += table(["population", "events", "% of plasma cells", "% of nucleated cells"], [
            ["all plasma cells", String(r.plasmaCells.count), "100%", pct(r.plasmaCells.percentOfNucleated)],
            ["normal plasma cells", String(r.normalPC.count), pct(r.normalPC.percentOfPlasmaCells), pct(r.normalPC.percentOfNucleated)],
            ["aberrant plasma cells", String(r.aberrantPC.count), pct(r.aberrantPC.percentOfPlasmaCells), pct(r.aberrantPC.percentOfNucleated)],
        ] + (r.unreadPC.count > 0 ? [["cells of clusters reading too few light chains (neither normal nor aberrant)", String(r.unreadPC.count),
                                      pct(r.unreadPC.percentOfPlasmaCells), pct(r.unreadPC.percentOfNucleated)]] : []))
        if !r.aberrantClusters.isEmpty {
            h += "<p>Counted clusters: \(r.aberrantClusters.map(String.init).joined(separator: ", ")) events of both light chains "
                + "(the aberrant count is their clonal excess, not their size)"
                + (r.unclusteredAberrantEvents > 0 ? "; \(r.unclusteredAberrantEvents) aberrant-phenotype events outside a counted cluster (not counted)" : "")
                + ". The <b>clonal excess</b> is their events of the restricted light chain minus the polyclonal share expected among them "
                + "(the reference κ:λ times their events of the other chain): the normal plasma cells that share the clone's gate taken out.</p>\n"
        }
        if !r.phenotype.isEmpty {
            h += "<h3>Aberrant phenotype against normal plasma cells</h3>\n"
            h += "<p>Medians of the counted clusters' clonal excess, against the normal plasma cells'. "
                + "A pattern is uncertain when the median's 95% interval reaches across the normal median ± the margin: the normal cells' chain noise in the box leaves the clone's level open.</p>\n"
            h += table(["marker", "clonal excess median", "95% interval", "normal median", "pattern"], r.phenotype.map { p in
                [p.marker, String(format: "%.3f", p.aberrantMedian), p.aberrantMedianCI95.map { String(format: "%.3f–%.3f", $0[0], $0[1]) } ?? "—",
                 p.normalMedian.map { String(format: "%.3f", $0) } ?? "—", p.pattern + (p.uncertain == true ? " (uncertain)" : "")]
            })
        }
        let l = r.lightChains
        h += "<p>Light chain of the aberrant cluster: <b>\(e(l.aberrant))</b> (κ \(l.aberrantKappa), λ \(l.aberrantLambda)); other plasma cells κ \(l.normalKappa), λ \(l.normalLambda); "
            + "reference (polyclonal) κ:λ " + (l.normalRatio.map { String(format: "%.2f", $0) } ?? "—")
            + (r.clonality?.lightChainReadLevel.map { String(format: "; a chain is read above %.3f, the density valley above the unexpressed chains' mode", $0) } ?? "") + ".</p>\n"
        if let all = r.clonality?.plasmaCellKappaLambda {
            let line = MRDTextReport.compartmentLine(all)
            h += "<p>" + e(line.prefix(1).uppercased() + line.dropFirst()) + ".</p>\n"
        }
        return h + "</section>\n"
    }

    static func plotSection(_ analysis: MRDAnalysis) -> String {
        guard !analysis.plots.isEmpty else {
            return "<section id=\"plots\"><h2>Gate sequence</h2><p>No plots: the sample was not gated, or the template defines none.</p></section>\n"
        }
        var h = "<section id=\"plots\"><h2>Gate sequence</h2>\n<p class=\"legend\">Density from blue (1 event per cell) to red (≥ 1,024); "
            + "on plasma-cell plots the counted clusters' events of the restricted light chain as <span class=\"aberrant\">red points</span> "
            + "(the clone, with the normal plasma cells of its chain that share its gate; the count is their clonal excess, under Plasma cells) "
            + "and the other plasma cells in blue-grey; "
            + "dashed red lines are aberrancy thresholds; shaded stretches were excluded by the time gate.</p>\n<div class=\"grid\">\n"
        for (i, plot) in analysis.plots.enumerated() {
            var attributes = "data-plot=\"\(i)\" data-population=\"\(e(plot.population ?? "all events"))\" data-count=\"\(plot.populationCount)\" data-drawn=\"\(plot.densityEvents + plot.aberrantEvents)\""
            if plot.overlay { attributes += " data-normal=\"\(plot.densityEvents)\" data-aberrant=\"\(plot.aberrantEvents)\"" }
            h += "<figure class=\"plot\" \(attributes)>\n"
            h += PlotSVG.render(plot, index: i) + "\n"
            var caption = "<b>\(e(plot.title))</b><br>\(e(plot.population ?? "all events")): \(plot.populationCount) events"
            if plot.overlay {
                caption += " — other plasma cells \(plot.densityEvents), <span class=\"aberrant\">restricted chain of the counted clusters \(plot.aberrantEvents)</span>"
                    + " (clonal excess \(analysis.result.aberrantPC.count))"
            }
            if plot.undrawn > 0 { caption += "; \(plot.undrawn) with a non-finite value not drawn" }
            for gate in plot.gates { caption += "<br>\(e(gate.id)): \(gate.count) (\(String(format: "%.3g", gate.percentOfParent))% of parent)" }
            h += "<figcaption>\(caption)</figcaption>\n</figure>\n"
        }
        return h + "</div>\n</section>\n"
    }

    static func qcSection(_ q: AcquisitionQC) -> String {
        var h = "<section id=\"qc\"><h2>Acquisition QC: \(q.passed ? "pass" : "FAIL")</h2>\n"
        for failure in q.failures { h += "<p class=\"fail\">\(e(failure))</p>\n" }
        let t = q.timeStability
        var rows: [[String]] = [
            ["events read", "\(q.eventsRead)" + (q.declaredEvents.map { " ($TOT \($0))" } ?? " (no $TOT)")],
            ["acquisition time", q.acquisitionSeconds.map { String(format: "%.1f s", $0) } ?? "—"],
            ["mean rate", q.meanEventsPerSecond.map { String(format: "%.0f events/s", $0) } ?? "—"],
            ["flow stability", "\(t.verdict)" + (t.verdict == "not_assessed" ? "" : "; \(t.bins) bins, \(t.burstBins) burst, \(t.clogBins) clog; \(t.excludedEvents) events (\(String(format: "%.2f", t.excludedPercent))%) excluded, at most \(String(format: "%g", t.maxExcludedPercent))% allowed")],
            ["singlets", q.singlets.map(String.init) ?? "—"], ["after the debris gate", q.nonDebris.map(String.init) ?? "—"],
            ["nucleated cells", "\(q.nucleatedCells) (minimum \(q.minNucleatedCells): \(q.minimumMet ? "met" : "not met"))"],
            ["LOD / LLOQ", "\(pct(q.lodPercent)) / \(pct(q.lloqPercent))"],
        ]
        for i in q.hemodilution {
            rows.append(["\(i.name) (hemodilution)", String(format: "%.3g%% (%d events); limit ≥ %g%%", i.percentOfNucleated, i.count, i.minPercent) + (i.belowLimit ? " — BELOW" : "")])
        }
        if !q.hemodilution.isEmpty { rows.append(["hemodiluted", q.hemodiluted ? "yes" : "no (flagged when \(q.hemodilutionFlagWhenBelow) or more indicators are below their limit)"]) }
        h += table(["", ""], rows, header: false)
        if !t.eventsPerBin.isEmpty { h += flowChart(t) }
        return h + "</section>\n"
    }

    /// Events per time bin as bars; bins outside the tolerance in red.
    static func flowChart(_ t: AcquisitionQC.TimeStability) -> String {
        let width = 560.0, height = 90.0
        let most = Double(t.eventsPerBin.max() ?? 1)
        let bar = width / Double(t.eventsPerBin.count)
        let median = t.medianEventsPerBin ?? 0, tolerance = t.tolerance ?? 0
        var svg = "<figure class=\"flow\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(PlotSVG.n(width)) \(PlotSVG.n(height))\" width=\"\(PlotSVG.n(width))\" height=\"\(PlotSVG.n(height))\" role=\"img\" aria-label=\"events per time bin\">"
        for (i, count) in t.eventsPerBin.enumerated() {
            let off = abs(Double(count) - median) > tolerance * median
            let h = Double(count) / max(most, 1) * (height - 4)
            svg += "<rect x=\"\(PlotSVG.n(Double(i) * bar))\" y=\"\(PlotSVG.n(height - h))\" width=\"\(PlotSVG.n(max(bar - 0.5, 0.5)))\" height=\"\(PlotSVG.n(h))\" fill=\"\(off ? "#e41a1c" : "#4f6fd6")\"/>"
        }
        let y = height - median / max(most, 1) * (height - 4)
        svg += "<line x1=\"0\" x2=\"\(PlotSVG.n(width))\" y1=\"\(PlotSVG.n(y))\" y2=\"\(PlotSVG.n(y))\" stroke=\"#111\" stroke-dasharray=\"3 3\"/></svg>"
        return svg + "<figcaption>Events per time bin (\(t.bins) bins of \(t.binWidth.map { String(format: "%.3g", $0) } ?? "?") \(t.unit ?? "")); dashed: median; red: outside ±\(String(format: "%g", 100 * tolerance))%.</figcaption></figure>\n"
    }

    static func gateSection(_ r: MRDResult) -> String {
        guard !r.gates.isEmpty else { return "" }
        var h = "<section id=\"gates\"><h2>Gate counts</h2>\n"
        h += table(["gate", "parent", "events", "% of parent"], r.gates.map { [$0.id, $0.parent ?? "all events", String($0.count), String(format: "%.3f%%", $0.percentOfParent)] },
                   rowAttributes: r.gates.map { "data-gate=\"\(e($0.id))\" data-count=\"\($0.count)\"" })
        if !r.thresholds.isEmpty {
            h += "<h3>Data-driven boundaries</h3>\n"
            h += table(["boundary", "marker", "method", "value", "detail"], r.thresholds.map { t in
                [t.name, t.marker, t.method,
                 t.value.map { v in t.upper.map { String(format: "%.4g…%.4g", v, $0) } ?? String(format: "%.4g", v) } ?? "switched off (selects nothing)",
                 t.detail]
            })
        }
        return h + "</section>\n"
    }

    static func warningSection(_ r: MRDResult) -> String {
        var h = "<section id=\"warnings\"><h2>Warnings</h2>\n"
        let all = r.warnings + r.qc.parserWarnings.filter { !r.warnings.contains($0) }
        if all.isEmpty { return h + "<p>None.</p></section>\n" }
        h += "<ul>" + all.map { "<li>\(e($0))</li>" }.joined() + "</ul>\n"
        return h + "</section>\n"
    }

    static func table(_ headers: [String], _ rows: [[String]], header: Bool = true, rowAttributes: [String]? = nil) -> String {
        var h = "<table>"
        if header { h += "<thead><tr>" + headers.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead>" }
        h += "<tbody>"
        for (i, row) in rows.enumerated() {
            let attributes = rowAttributes.map { " " + $0[i] } ?? ""
            h += "<tr\(attributes)>" + row.enumerated().map { j, cell in (!header && j == 0 ? "<th>" : "<td>") + e(cell) + (!header && j == 0 ? "</th>" : "</td>") }.joined() + "</tr>"
        }
        return h + "</tbody></table>\n"
    }

    static let style = """
    body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 24px auto; max-width: 1320px; padding: 0 16px; }
    h1 { font-size: 22px; margin: 0; } h2 { font-size: 17px; margin: 24px 0 8px; border-bottom: 1px solid #ddd; } h3 { font-size: 14px; }
    .file { color: #555; margin: 2px 0 12px; word-break: break-all; }
    .call { padding: 12px 16px; border-radius: 6px; border: 2px solid; }
    .call h2 { border: 0; margin: 0 0 4px; font-size: 22px; }
    .call-positive, .call-positive_below_lloq { background: #fdecea; border-color: #c62828; }
    .call-negative { background: #e8f5e9; border-color: #2e7d32; }
    .call-not_evaluable { background: #fff8e1; border-color: #f9a825; }
    .figures { display: flex; flex-wrap: wrap; gap: 6px 24px; margin: 8px 0 0; }
    .figures dt { font-size: 11px; color: #555; } .figures dd { margin: 0; font-weight: 600; }
    table { border-collapse: collapse; margin: 6px 0; } th, td { text-align: left; padding: 2px 10px 2px 0; vertical-align: top; }
    thead th { border-bottom: 1px solid #bbb; } tbody th { font-weight: 500; color: #444; }
    .grid { display: flex; flex-wrap: wrap; gap: 12px; }
    figure { margin: 0; } figure.plot { width: 316px; } figcaption { font-size: 12px; color: #333; }
    .aberrant { color: #e41a1c; font-weight: 600; } .fail { color: #c62828; font-weight: 600; } .pass { color: #2e7d32; }
    .legend { font-size: 12px; color: #444; }
    footer { margin-top: 32px; font-size: 11px; color: #777; }

    """
}

import Cytometry
import Foundation

/// ``ManualComparison`` as text, CSV and a self-contained HTML page with the scatter plot of
/// the two MRD values and the Bland–Altman plot (inline SVG, no script).
public enum ManualComparisonReport {
    static func percent(_ value: Double?) -> String { value.map { String(format: "%.4g", $0) } ?? "not detected" }
    static func optional(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a" }

    public static func text(_ c: ManualComparison) -> String {
        var lines = ["Manual (FlowJo) versus FlowMRD: \(c.rows.count) samples" + (c.errors.isEmpty ? "" : ", \(c.errors.count) not compared"), ""]
        lines += table(header: ["file", "sample", "manual events", "manual MRD %", "manual call", "FlowMRD events", "FlowMRD MRD %", "FlowMRD call"], rows: c.rows.map {
            [$0.file, $0.sample, String($0.manualEvents), percent($0.manualPercent), $0.manualCall, String($0.flowmrdEvents), percent($0.flowmrdPercent), $0.flowmrdCall]
        })
        for error in c.errors { lines.append("not compared: \(error.file): \(error.error)") }
        if !c.skipped.isEmpty { lines.append("skipped (no event files): " + c.skipped.map(\.file).joined(separator: ", ")) }
        let t = c.concordance
        lines += ["", "Calls (manual rule: \(c.manualRule)):",
                  "                     FlowMRD positive  FlowMRD negative",
                  "  manual positive    \(pad(t.bothPositive))  \(pad(t.manualOnly))",
                  "  manual negative    \(pad(t.flowmrdOnly))  \(pad(t.bothNegative))",
                  "  FlowMRD not evaluable (left out): \(t.notEvaluable)",
                  "Cohen's kappa: \(optional(c.cohenKappa))"]
        if let ba = c.blandAltman {
            lines.append("Bland–Altman, log10(FlowMRD %) − log10(manual %), \(ba.samples) samples positive in both: bias \(optional(ba.bias)), 95% limits of agreement \(optional(ba.lower)) to \(optional(ba.upper))")
        } else {
            lines.append("Bland–Altman: no sample is positive in both")
        }
        lines.append("Spearman rho (manual vs FlowMRD MRD %, evaluable samples, not detected = 0): \(optional(c.spearmanRho))")
        return lines.joined(separator: "\n") + "\n"
    }

    static func pad(_ n: Int) -> String { String(n).padding(toLength: 16, withPad: " ", startingAt: 0) }

    public static func csv(_ c: ManualComparison) -> String {
        func field(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        var lines = ["file,sample,manual_events,manual_nucleated,manual_mrd_percent,manual_call,flowmrd_events,flowmrd_mrd_percent,flowmrd_call"]
        for r in c.rows {
            lines.append([field(r.file), field(r.sample), String(r.manualEvents), String(r.manualNucleated), "\(r.manualPercent)", r.manualCall,
                          String(r.flowmrdEvents), r.flowmrdPercent.map { "\($0)" } ?? "", r.flowmrdCall].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func html(_ c: ManualComparison) -> String {
        let e = XMLEscaping.escape
        var h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Manual versus FlowMRD</title>"
        h += "<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}"
        h += "td:first-child,th:first-child{text-align:left}svg{border:1px solid #ddd;margin:1em 1em 0 0}</style></head><body>\n"
        h += "<h1>Manual (FlowJo) versus FlowMRD</h1>\n<pre>\(e(text(c)))</pre>\n"
        let positives = c.rows.filter { $0.manualPercent > 0 && ($0.flowmrdPercent ?? 0) > 0 }
        h += "<h2>MRD %, both detected (log scales)</h2>\n" + scatter(positives.map { (log10($0.manualPercent), log10($0.flowmrdPercent!)) })
        h += "<h2>Bland–Altman: difference against mean of log₁₀ MRD %</h2>\n" + blandAltmanPlot(c.blandAltman)
        return h + "</body></html>\n"
    }

    /// A square plot of (manual, FlowMRD) log₁₀ values with the identity line.
    static func scatter(_ points: [(Double, Double)]) -> String {
        guard !points.isEmpty else { return "<p>No sample has an MRD value on both sides.</p>\n" }
        let values = points.flatMap { [$0.0, $0.1] }
        let lo = (values.min()! - 0.5).rounded(.down), hi = (values.max()! + 0.5).rounded(.up)
        let frame = Frame(xRange: lo...hi, yRange: lo...hi)
        var s = frame.open(xTitle: "manual log10 MRD %", yTitle: "FlowMRD log10 MRD %")
        s += "<line x1=\"\(frame.x(lo))\" y1=\"\(frame.y(lo))\" x2=\"\(frame.x(hi))\" y2=\"\(frame.y(hi))\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
        for (x, y) in points { s += "<circle cx=\"\(frame.x(x))\" cy=\"\(frame.y(y))\" r=\"4\" fill=\"#1f5fa8\"/>" }
        return s + "</svg>\n"
    }

    static func blandAltmanPlot(_ ba: ManualComparison.BlandAltman?) -> String {
        guard let ba else { return "<p>No sample is positive in both.</p>\n" }
        let xs = ba.points.map { $0[0] }, ys = ba.points.map { $0[1] } + [ba.bias, ba.lower ?? ba.bias, ba.upper ?? ba.bias]
        let frame = Frame(xRange: (xs.min()! - 0.5)...(xs.max()! + 0.5), yRange: (min(ys.min()!, -0.5) - 0.2)...(max(ys.max()!, 0.5) + 0.2))
        var s = frame.open(xTitle: "mean of log10 MRD %", yTitle: "FlowMRD − manual (log10)")
        for (value, colour) in [(ba.bias, "#c0392b"), (ba.lower, "#888"), (ba.upper, "#888")] {
            guard let value else { continue }
            s += "<line x1=\"\(frame.x(frame.xRange.lowerBound))\" y1=\"\(frame.y(value))\" x2=\"\(frame.x(frame.xRange.upperBound))\" y2=\"\(frame.y(value))\" stroke=\"\(colour)\" stroke-dasharray=\"5 3\"/>"
        }
        for p in ba.points { s += "<circle cx=\"\(frame.x(p[0]))\" cy=\"\(frame.y(p[1]))\" r=\"4\" fill=\"#1f5fa8\"/>" }
        return s + "</svg>\n"
    }

    /// A 360 × 300 plot area with axes, ticks every unit and titles.
    struct Frame {
        let xRange: ClosedRange<Double>, yRange: ClosedRange<Double>
        let width = 360.0, height = 300.0, margin = 50.0
        func x(_ v: Double) -> String { String(format: "%.1f", margin + (v - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * (width - margin - 10)) }
        func y(_ v: Double) -> String { String(format: "%.1f", height - margin - (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * (height - margin - 10)) }
        func open(xTitle: String, yTitle: String) -> String {
            var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-size=\"11\">"
            s += "<line x1=\"\(margin)\" y1=\"\(height - margin)\" x2=\"\(width - 10)\" y2=\"\(height - margin)\" stroke=\"#333\"/>"
            s += "<line x1=\"\(margin)\" y1=\"10\" x2=\"\(margin)\" y2=\"\(height - margin)\" stroke=\"#333\"/>"
            func ticks(_ range: ClosedRange<Double>) -> [Double] {
                let step = range.upperBound - range.lowerBound > 4 ? 1.0 : 0.5
                return Array(stride(from: (range.lowerBound / step).rounded(.up) * step, through: range.upperBound, by: step))
            }
            func label(_ t: Double) -> String { String(format: "%g", t == 0 ? 0 : t) }
            for t in ticks(xRange) { s += "<text x=\"\(x(t))\" y=\"\(height - margin + 14)\" text-anchor=\"middle\">\(label(t))</text>" }
            for t in ticks(yRange) { s += "<text x=\"\(margin - 6)\" y=\"\(y(t))\" text-anchor=\"end\">\(label(t))</text>" }
            s += "<text x=\"\((width + margin) / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">\(XMLEscaping.escape(xTitle))</text>"
            s += "<text x=\"14\" y=\"\((height - margin) / 2)\" transform=\"rotate(-90 14 \((height - margin) / 2))\" text-anchor=\"middle\">\(XMLEscaping.escape(yTitle))</text>"
            return s
        }
    }
}

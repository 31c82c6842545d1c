import Foundation
import Testing
import Synthetic
import TestSupport
@testable import MRD
@testable import Report

/// Reads the data attributes the report writes for each plot and gate.
struct ReportStructure {
    struct Figure { var attributes: [String: String]; var gates: [(String, Int)]; var title: String }
    let figures: [Figure]

    init(_ html: String) {
        let figurePattern = try! NSRegularExpression(pattern: #"<figure class="plot" ([^>]*)>(.*?)</figure>"#, options: [.dotMatchesLineSeparators])
        let attributePattern = try! NSRegularExpression(pattern: #"(data-[a-z]+)="([^"]*)""#)
        let gatePattern = try! NSRegularExpression(pattern: #"<g class="gate" data-gate="([^"]*)" data-count="(\d+)""#)
        let titlePattern = try! NSRegularExpression(pattern: #"<figcaption><b>(.*?)</b>"#)
        let ns = html as NSString
        figures = figurePattern.matches(in: html, range: NSRange(location: 0, length: ns.length)).map { match in
            let head = ns.substring(with: match.range(at: 1)), body = ns.substring(with: match.range(at: 2)) as NSString
            var attributes: [String: String] = [:]
            for a in attributePattern.matches(in: head, range: NSRange(location: 0, length: (head as NSString).length)) {
                attributes[(head as NSString).substring(with: a.range(at: 1))] = (head as NSString).substring(with: a.range(at: 2))
            }
            let gates = gatePattern.matches(in: body as String, range: NSRange(location: 0, length: body.length)).map {
                (body.substring(with: $0.range(at: 1)), Int(body.substring(with: $0.range(at: 2)))!)
            }
            let title = titlePattern.firstMatch(in: body as String, range: NSRange(location: 0, length: body.length)).map { body.substring(with: $0.range(at: 1)) } ?? ""
            return Figure(attributes: attributes, gates: gates, title: title)
        }
    }
}

@Suite("HTML report")
struct HTMLReportTests {
    static let root = SharedMaterial.packageRoot
    static let template = try! GatingTemplate(path: root.appendingPathComponent("gating-templates/legend2-10color.yaml").path)
    let analyzer = MRDAnalyzer(template: HTMLReportTests.template, workers: 2)

    @Test("every template plot is present, in order, and its counts equal the JSON result", arguments: ["samples/positive.fcs", "samples/borderline-30.fcs"])
    func structure(sample: String) throws {
        let analysis = try analyzer.analyzeWithPlots(path: Self.root.appendingPathComponent(sample).path)
        let r = analysis.result
        let html = HTMLReport.render(analysis)
        let figures = ReportStructure(html).figures
        #expect(figures.map(\.title) == Self.template.plots.map { HTML.escape($0.title) })
        let counts = Dictionary(uniqueKeysWithValues: r.gates.map { ($0.id, $0.count) })
        for (figure, spec) in zip(figures, Self.template.plots) {
            let population = spec.population.map { counts[$0]! } ?? r.totalEvents
            #expect(figure.attributes["data-population"] == (spec.population ?? "all events"))
            #expect(figure.attributes["data-count"] == String(population), "\(spec.title)")
            // Every event of the population is drawn (as density or as an aberrant point).
            #expect(figure.attributes["data-drawn"] == String(population), "\(spec.title)")
            if spec.aberrantOverlay {
                // The clone's restricted-chain events as points, every other plasma cell as density.
                let restricted = try #require(r.clonality).restrictedEvents
                #expect(figure.attributes["data-normal"] == String(r.plasmaCells.count - restricted), "\(spec.title)")
                #expect(figure.attributes["data-aberrant"] == String(restricted), "\(spec.title)")
                // The caption names the red points for what they are, beside the count.
                #expect(html.contains("restricted chain of the counted clusters \(restricted)</span> (clonal excess \(r.aberrantPC.count))"))
            }
            for (gate, count) in figure.gates { #expect(counts[gate] == count, "\(spec.title): \(gate)") }
            // Gates with a boundary in the plot's axes are drawn; the time gate as shaded stretches.
            let drawable = spec.gates.filter { id in
                if case .flowRate = Self.template.gates.first(where: { $0.id == id })!.kind { return false }
                return true
            }
            #expect(figure.gates.map(\.0) == drawable, "\(spec.title)")
        }
        #expect(r.aberrantPC.count >= 30)
        #expect(html.contains("data-call=\"\(r.call.rawValue)\""))
        #expect(html.contains("<dd data-field=\"nucleated_cells\">\(r.nucleatedCells)</dd>"))
        #expect(html.contains("<dd data-field=\"aberrant_pc\">\(r.aberrantPC.count)</dd>"))
        #expect(html.contains(r.templateSHA256) && html.contains(r.templateVersion) && html.contains(r.software))
        // All plasma cells' κ:λ, with the range it was judged against, in both reports.
        let all = try #require(r.clonality?.plasmaCellKappaLambda)
        let line = "all plasma cells κ:λ \(String(format: "%.2f", all.ratio!)) (\(all.kappa):\(all.lambda)), within the normal range 0.5–4"
        #expect(MRDTextReport.compartmentLine(all) == line && MRDTextReport.render(r).contains("\n  " + line))
        #expect(html.contains("<p>A" + line.dropFirst() + ".</p>"))
        #expect(MRDTextReport.compartmentLine(PlasmaCellLightChains(kappa: 1_000, lambda: 150, range: 0.5...4, alpha: 0.001))
                == "all plasma cells κ:λ 6.67 (1000:150), OUTSIDE the normal range 0.5–4: at least 400 monotypic κ plasma cells")
        for rule in Self.template.mrd.rules { #expect(html.contains("\(rule.marker) \(rule.aberrant.rawValue)")) }
        // The light chains: the other plasma cells' counts, and the reference κ:λ the clusters were
        // judged against (which is not their ratio: it comes from the clusters that held no subset).
        let l = r.lightChains, reference = String(format: "%.2f", try #require(r.clonality?.referenceKappaLambda))
        // With the level a chain is read above (``LightChainReading``).
        let level = String(format: "%.3f", try #require(r.clonality?.lightChainReadLevel))
        #expect(MRDTextReport.render(r).contains("; other PCs κ \(l.normalKappa), λ \(l.normalLambda); reference κ:λ \(reference); a chain read above \(level), the density valley above the unexpressed chains' mode\n"))
        #expect(html.contains("; other plasma cells κ \(l.normalKappa), λ \(l.normalLambda); reference (polyclonal) κ:λ \(reference); a chain is read above \(level), the density valley above the unexpressed chains' mode.</p>"))
        // The counted clusters' sizes are named as sizes of both chains, not as the count.
        let sizes = r.aberrantClusters.map(String.init).joined(separator: ", ")
        #expect(!sizes.isEmpty && MRDTextReport.render(r).contains("; counted from clusters of \(sizes) events of both light chains"))
        #expect(html.contains("<p>Counted clusters: \(sizes) events of both light chains (the aberrant count is their clonal excess, not their size)"))
        // The clonal excess is defined there, once; the phenotype table and the plots' legend refer to it.
        #expect(html.contains(". The <b>clonal excess</b> is their events of the restricted light chain minus the polyclonal share expected among them (the reference κ:λ times their events of the other chain)"))
        #expect(html.components(separatedBy: "polyclonal share").count == 2, "the clonal excess is defined once")
        // The phenotype table gives the clonal excess's medians, under a header that says so.
        let first = try #require(r.phenotype.first)
        #expect(html.contains("<th>clonal excess median</th><th>95% interval</th>"))
        let interval = try #require(first.aberrantMedianCI95)
        #expect(html.contains("<td>\(first.marker)</td><td>\(String(format: "%.3f", first.aberrantMedian))</td><td>\(String(format: "%.3f–%.3f", interval[0], interval[1]))</td>"))
        // A marker whose interval reaches across the margin is named uncertain in both reports.
        var json = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as? [String: Any])
        var entries = try #require(json["phenotype"] as? [[String: Any]])
        entries[0]["uncertain"] = true
        json["phenotype"] = entries
        let marked = try JSONDecoder().decode(MRDResult.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(marked.phenotype[0].uncertain == true && r.phenotype.allSatisfy { $0.uncertain == false })
        #expect(MRDTextReport.render(marked).contains("; uncertain (the 95% interval of the clone's median reaches across the margin): \(first.marker)\n"))
        #expect(!MRDTextReport.render(r).contains("uncertain"))
        let markedHTML = HTMLReport.render(MRDAnalysis(result: marked, plots: analysis.plots, resolvedGates: analysis.resolvedGates))
        #expect(markedHTML.contains("<td>\(first.pattern) (uncertain)</td>") && !html.contains(" (uncertain)</td>"))
        // Cells of unread clusters get a line of their own in both reports, only when there are some.
        var unread = r
        unread.unreadPC = .init(count: 274, percentOfPlasmaCells: 4.1, percentOfNucleated: 0.0031)
        #expect(MRDTextReport.render(unread).contains("\n    unread:   274 (4.1% of PCs) in clusters reading too few light chains to be judged: neither normal nor aberrant\n"))
        #expect(r.unreadPC.count == 0 && !MRDTextReport.render(r).contains("    unread:"))
        let unreadHTML = HTMLReport.render(MRDAnalysis(result: unread, plots: analysis.plots, resolvedGates: analysis.resolvedGates))
        #expect(unreadHTML.contains("<tr><td>cells of clusters reading too few light chains (neither normal nor aberrant)</td><td>274</td><td>4.1%</td><td>0.0031%</td></tr>"))
        #expect(!html.contains("reading too few light chains"))
        // The same analysis renders to the same bytes; plots equal what the plain analysis counts.
        #expect(HTMLReport.render(try analyzer.analyzeWithPlots(path: Self.root.appendingPathComponent(sample).path)) == html)
        #expect(try analyzer.analyze(path: Self.root.appendingPathComponent(sample).path) == r)
    }

    @Test("self-contained: no scripts, stylesheets, fonts, images or network references")
    func selfContained() throws {
        let html = HTMLReport.render(try analyzer.analyzeWithPlots(path: Self.root.appendingPathComponent("samples/positive.fcs").path))
        for forbidden in ["<script", "<link", "<img", "<iframe", "@import", "@font-face", "src=", "href="] {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
        let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!withoutNamespace.contains("http:") && !withoutNamespace.contains("https:"))
        let urls = try NSRegularExpression(pattern: #"url\(([^)]*)\)"#).matches(in: html, range: NSRange(location: 0, length: (html as NSString).length))
        #expect(urls.allSatisfy { (html as NSString).substring(with: $0.range(at: 1)).hasPrefix("#") })
        #expect(html.utf8.count < 2_000_000)
    }

    @Test("a sample that cannot be gated gets a report with its reason and no plots")
    func notGated() throws {
        let analysis = try analyzer.analyzeWithPlots(path: Self.root.appendingPathComponent("samples/demo-10color.fcs").path)
        let html = HTMLReport.render(analysis)
        #expect(analysis.plots.isEmpty)
        #expect(html.contains("data-call=\"not_evaluable\""))
        #expect(html.contains("No plots: the sample was not gated"))
        #expect(html.contains("the file carries no spillover matrix"))
    }

    @Test("an excluded time stretch is shaded on the time plot; a rare cluster stays as points")
    func burstAndRareCluster() throws {
        let directory = TemporaryDirectory()
        let path = directory.path("burst.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 60_000, aberrantCount: 40, seed: 71, flow: .burst)).write(fcsPath: path)
        let analysis = try analyzer.analyzeWithPlots(path: path)
        let time = try #require(analysis.plots.first { $0.x.marker == "Time" })
        #expect(!time.excludedStretches.isEmpty)
        #expect(time.excludedStretches.map { [round6($0.lowerBound), round6($0.upperBound)] } == analysis.result.qc.timeStability.excludedStretches)
        let html = HTMLReport.render(analysis)
        #expect(html.contains("<rect class=\"excluded\""))
        let overlay = try #require(analysis.plots.first { $0.overlay })
        #expect(overlay.aberrantEvents == analysis.result.aberrantPC.count && overlay.aberrantEvents >= 30)
    }
}

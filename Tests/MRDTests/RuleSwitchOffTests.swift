import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// An aberrancy rule whose data-driven threshold cannot be set is switched off for the sample:
/// its template fallback decides no cell (issue 15: "never replaced by a constant that decides cells").
@Suite("A rule without a threshold is switched off")
struct RuleSwitchOffTests {
    let directory = TemporaryDirectory()
    /// The CD45 rule as the bundled template writes it.
    static let cd45Rule = "      - marker: CD45\n        aberrant: below\n        threshold:\n"
        + "          reference: {population: pc-reference, quantile: 0.01, offset: -0.12, bounds: [0.25, 0.65]}\n"

    /// The bundled template with its CD45 rule replaced by `replacement`.
    func template(_ name: String, cd45Rule replacement: String) throws -> GatingTemplate {
        let text = try String(contentsOfFile: TemplateTests.bundled, encoding: .utf8)
        let rule = Self.cd45Rule
        try #require(text.contains(rule), "the bundled template's CD45 rule is not where this test expects it")
        let path = directory.path(name + ".yaml")
        try text.replacingOccurrences(of: rule, with: replacement).write(toFile: path, atomically: true, encoding: .utf8)
        return try GatingTemplate(path: path)
    }

    @Test("a reference population that can never be large enough: rule off, said so, and the fallback's value changes nothing")
    func switchedOff() throws {
        let path = directory.path("marrow.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 80_000, aberrantFraction: 5e-3, seed: 81)).write(fcsPath: path)
        func rule(fallback: Double) -> String {
            "      - marker: CD45\n        aberrant: below\n        threshold:\n"
                + "          reference: {population: pc-reference, quantile: 0.01, offset: -0.12, bounds: [0, 3], min_events: 100000000}\n"
                + "          fallback: \(fallback)\n"
        }
        let low = try MRDAnalyzer(template: template("low", cd45Rule: rule(fallback: 0.3)), workers: 2).analyze(path: path)
        let high = try MRDAnalyzer(template: template("high", cd45Rule: rule(fallback: 2.0)), workers: 2).analyze(path: path)
        let without = try MRDAnalyzer(template: template("without", cd45Rule: ""), workers: 2).analyze(path: path)
        for result in [low, high] {
            #expect(result.clonality?.rulesOff.contains("CD45") == true, "\(String(describing: result.clonality?.rulesOff))")
            #expect(result.warnings.contains { $0.hasPrefix("rule:CD45: ") && $0.contains("the CD45 aberrancy rule is switched off for this sample") },
                    "\(result.warnings)")
            #expect(!result.warnings.contains { $0.hasPrefix("rule:CD45: ") && $0.contains("used the template's fallback") })
        }
        // A fallback of 2.0 would call every plasma cell CD45-low; switched off, it marks none.
        #expect(low.unclusteredAberrantEvents == high.unclusteredAberrantEvents)
        #expect(low.unclusteredAberrantEvents == without.unclusteredAberrantEvents)
        #expect(low.aberrantPC == without.aberrantPC && low.call == without.call)
        #expect(without.clonality?.rulesOff.contains("CD45") == false)
    }
}

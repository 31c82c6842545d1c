import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// A gate whose data-driven boundary cannot be placed is switched off (it selects no event),
/// never replaced by a template constant; a negative cannot rest on it (issue 15, and the
/// guide's "a constant that silently decides cells is a defect").
@Suite("A gate without a boundary is switched off")
struct GateSwitchOffTests {
    let directory = TemporaryDirectory()

    /// The small-sample template (negatives reachable at 20,000 nucleated cells) with `old` replaced by `new`.
    func template(_ name: String, _ old: String, _ new: String) throws -> GatingTemplate {
        var text = try SmallSampleTemplate.text()
        if !old.isEmpty {
            try #require(text.contains(old), "the bundled template no longer holds \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        let path = directory.path(name + ".yaml")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try GatingTemplate(path: path)
    }

    static let cd138Bounds = "bounds: [0.35, 0.65], estimate: robust}"
    static let cd38Bounds = "quantile: 0.5, offset: 0.4, bounds: [0.75, 0.97]}"

    func marrow(_ name: String, _ spec: MarrowSpecification) throws -> String {
        let path = directory.path(name + ".fcs")
        _ = try MarrowGenerator(spec).write(fcsPath: path)
        return path
    }

    @Test("the gates the bundled template's call rests on: denominator, plasma cells, hemodilution indicators and what they depend on")
    func gatesTheCallRestsOn() throws {
        let template = try GatingTemplate(path: TemplateTests.bundled)
        #expect(template.gatesTheCallRestsOn == [
            "time-stable", "singlets", "non-debris", "lymphocytes", "cd45-negative", "small", "cd138-positive", "cd38-bright", "pc-size",
            "cd38-bright-large", "pc-markers", "erythrocytes", "nucleated", "pc-region", "pc-scatter",
            "cd138-plasma-cells", "cd38-plasma-cells", "plasma-cells", "cd19-positive-nucleated",
            "bcp-region", "b-cell-precursors", "mast-cells", "myeloid-precursors", "erythroblasts",
        ])
        // Only the aberrancy rules' reference population reads these: a failure there switches rules off instead.
        for id in ["cd19-positive", "cd56-negative", "pc-reference"] { #expect(!template.gatesTheCallRestsOn.contains(id)) }
    }

    @Test("CD138 gate that cannot be placed: it selects nothing, says why, and the negative it would have given is not evaluable")
    func plasmaCellGateOff() throws {
        let path = try marrow("negative", MarrowSpecification(events: 60_000, aberrantFraction: 0, seed: 91))
        let placed = try MRDAnalyzer(template: try template("placed", "", ""), workers: 2).analyze(path: path)
        try #require(placed.call == .negative, "\(placed.notEvaluableReasons)")
        let off = try MRDAnalyzer(template: try template("off", Self.cd138Bounds, "bounds: [1.2, 1.4], estimate: robust}"), workers: 2).analyze(path: path)
        let threshold = try #require(off.thresholds.first { $0.name == "cd138-positive" })
        #expect(threshold.switchedOff && threshold.value == nil && threshold.detail.hasSuffix("lies outside the bounds 1.2…1.4"), "\(threshold)")
        #expect(off.gates.first { $0.id == "cd138-positive" }?.count == 0)
        #expect((placed.gates.first { $0.id == "cd138-positive" }?.count ?? 0) > 20)
        #expect(off.warnings.contains { $0.hasPrefix("cd138-positive: robust quantile 0.999 of lymphocytes + 0.2 = ") && $0.hasSuffix("the gate is switched off for this sample (it selects no event, and a negative cannot rest on it)") },
                "\(off.warnings)")
        #expect(off.call == .notEvaluable)
        #expect(off.notEvaluableReasons.count == 1 && off.notEvaluableReasons[0].hasPrefix("gate cd138-positive could not be placed from this sample's data (robust quantile 0.999 of lymphocytes + 0.2 = ")
                && off.notEvaluableReasons[0].hasSuffix("): switched off, so the cells it selects are not seen"), "\(off.notEvaluableReasons)")
    }

    @Test("a plasma-cell gate off on a marrow with a clone: the clone is still found among the cells the other gates select, and the call stays positive")
    func positiveStands() throws {
        let path = try marrow("positive", MarrowSpecification(events: 60_000, aberrantFraction: 5e-3, seed: 92))
        let placed = try MRDAnalyzer(template: try template("placed", "", ""), workers: 2).analyze(path: path)
        let off = try MRDAnalyzer(template: try template("off", Self.cd38Bounds, "quantile: 0.5, offset: 0.4, bounds: [1.2, 1.4]}"), workers: 2).analyze(path: path)
        try #require(placed.call == .positive)
        #expect(off.thresholds.first { $0.name == "cd38-bright" }?.switchedOff == true)
        #expect(off.gates.first { $0.id == "cd38-bright-large" }?.count == 0)
        #expect(off.call == .positive && off.aberrantPC.count > 0, "\(off.callText)")
    }

    @Test("a gate only the aberrancy rules' reference rests on: its rules are off, the call is not blocked")
    func referenceGateOff() throws {
        let path = try marrow("negative-ref", MarrowSpecification(events: 60_000, aberrantFraction: 0, seed: 91))
        let old = "      valley: {population: lymphocytes, search: [0.3, 0.68]}"
        let off = try MRDAnalyzer(template: try template("cd56-off", old, "      valley: {population: lymphocytes, search: [0.3, 0.68], min_events: 100000000}"), workers: 2)
            .analyze(path: path)
        #expect(off.thresholds.first { $0.name == "cd56-negative" }?.switchedOff == true)
        #expect(off.gates.first { $0.id == "pc-reference" }?.count == 0)
        // Every rule that reads pc-reference has no population left and is off too; the CD56 rule shares the line and is off.
        let rulesOff = Set(off.clonality?.rulesOff ?? [])
        #expect(rulesOff.isSuperset(of: ["CD45", "CD27", "CD81", "CD117", "CD38", "CD56"]), "\(rulesOff)")
        #expect(off.call == .negative, "\(off.notEvaluableReasons)")
    }

    @Test("under declared anti-CD38 masking a CD38 gate that cannot be placed is expected: reported, not a blocker")
    func maskedGateIsExplained() throws {
        let path = try marrow("masked", MarrowSpecification(events: 60_000, aberrantFraction: 0, seed: 93))
        let template = try template("cd38-off", Self.cd38Bounds, "quantile: 0.5, offset: 0.4, bounds: [1.2, 1.4]}")
        let plain = try MRDAnalyzer(template: template, workers: 2).analyze(path: path)
        #expect(plain.call == .notEvaluable && plain.notEvaluableReasons.contains { $0.hasPrefix("gate cd38-bright could not be placed") }, "\(plain.notEvaluableReasons)")
        var analyzer = MRDAnalyzer(template: template, workers: 2)
        analyzer.context = [.antiCD38]
        let masked = try analyzer.analyze(path: path)
        #expect(!masked.notEvaluableReasons.contains { $0.contains("cd38-bright") }, "\(masked.notEvaluableReasons)")
        #expect(masked.warnings.contains("cd38-bright is switched off under CD38 masking, as expected; plasma cells are identified by CD138"), "\(masked.warnings)")
        #expect(masked.call == .negative, "\(masked.notEvaluableReasons)")
    }
}

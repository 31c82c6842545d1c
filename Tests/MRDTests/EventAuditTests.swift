import EventCore
import FCS
import Foundation
import HDF5Store
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// `analyze --events-out`: the per-event audit file against the result and the synthetic truth.
@Suite("Per-event results file")
struct EventAuditTests {
    let directory = TemporaryDirectory()

    @Test("classes and membership bits agree with the result's counts and with the per-event truth; the result is kept as JSON")
    func agreesWithResultAndTruth() throws {
        let spec = MarrowSpecification(events: 120_000, aberrantFraction: 3e-3, seed: 81)
        let fcs = directory.path("audit.fcs"), out = directory.path("audit.events.h5")
        let truth = try MarrowGenerator(spec).write(fcsPath: fcs, labelsPath: directory.path("audit.labels"))
        let result = try MRDAnalyzer.writingHDF5(template: AnalysisTests.template, workers: 2).analyze(path: fcs, eventsOutput: out)
        #expect(result.call == .positive)
        #expect(!FileManager.default.fileExists(atPath: out + ".partial"))
        let audit = try HDF5EventResults(path: out)
        #expect(audit.classes.count == spec.events)
        // The JSON result in the file is the result returned.
        let stored = try JSONDecoder().decode(MRDResult.self, from: Data(try #require(audit.attributes["result"]).utf8))
        #expect(stored == result)
        #expect(audit.attributes["call"] == "positive")
        // Class counts against the result.
        let names = audit.classNames
        func count(_ name: String) -> Int {
            guard let code = names.firstIndex(of: name) else { return -1 }
            return audit.classes.filter { Int($0) == code }.count
        }
        let nucleatedClasses = ["nucleated, not a plasma cell", "normal plasma cell", "restricted-chain plasma cell of a counted cluster",
                                "aberrant-phenotype plasma cell outside a counted cluster"]
        #expect(nucleatedClasses.map(count).reduce(0, +) == result.nucleatedCells)
        // The counted clusters' restricted-chain events (the clone with the normal cells of its chain in its gate) have their own class; the clonal excess counted is at most their number.
        let restricted = try #require(result.clonality).restrictedEvents
        #expect(count("restricted-chain plasma cell of a counted cluster") == restricted && result.aberrantPC.count <= restricted)
        #expect(count("normal plasma cell") + count("aberrant-phenotype plasma cell outside a counted cluster") + restricted == result.plasmaCells.count)
        #expect(names.prefix(4) == ["excluded by time-stable", "excluded by singlets", "excluded by non-debris", "excluded by nucleated"])
        #expect(audit.classes.allSatisfy { Int($0) < names.count })
        // Membership bits against every gate count, and classes against the bits.
        for gate in result.gates {
            let bits = try #require(audit.membership(of: gate.id), "gate \(gate.id) has no bits")
            #expect(bits.filter { $0 }.count == gate.count, "gate \(gate.id)")
        }
        let nucleated = try #require(audit.membership(of: "nucleated"))
        let pcs = try #require(audit.membership(of: "plasma-cells"))
        for e in 0..<spec.events {
            let name = names[Int(audit.classes[e])]
            if nucleated[e] != nucleatedClasses.contains(name) { Issue.record("event \(e): class \(name) but nucleated bit \(nucleated[e])"); break }
            if pcs[e] != (name.contains("plasma cell") && !name.hasPrefix("nucleated")) { Issue.record("event \(e): class \(name) but plasma-cell bit \(pcs[e])"); break }
        }
        // Against the generator's truth: the restricted-chain class is mostly the spiked clone here, and doublets are excluded by singlets.
        let labels = try #require(FileManager.default.contents(atPath: directory.path("audit.labels")))
        let aberrantCode = try #require(truth.labelCodes["aberrant-plasma-cell"]), doubletCode = try #require(truth.labelCodes["doublet"])
        let classedAberrant = (0..<spec.events).filter { names[Int(audit.classes[$0])] == "restricted-chain plasma cell of a counted cluster" }
        let trulyAberrant = classedAberrant.filter { labels[$0] == aberrantCode }.count
        #expect(Double(trulyAberrant) >= 0.95 * Double(classedAberrant.count), "\(trulyAberrant) of \(classedAberrant.count) truly aberrant")
        #expect(Double(trulyAberrant) >= 0.9 * Double(truth.aberrantPlasmaCells))
        let doublets = (0..<spec.events).filter { labels[$0] == doubletCode }
        let excludedAsDoublets = doublets.filter { names[Int(audit.classes[$0])] == "excluded by singlets" }.count
        #expect(Double(excludedAsDoublets) >= 0.9 * Double(doublets.count), "\(excludedAsDoublets) of \(doublets.count) doublets")
    }

    @Test("CD138-positive plasma cells as CD45-bright as lymphocytes stay plasma cells; a CD45 limit on them (the old gate) would cut them")
    func cd45BrightPlasmaCells() throws {
        // A clone at the lymphocytes' CD45 level (normal plasma cells' CD45 + 0.55 decade), CD27 lost.
        let spec = MarrowSpecification(events: 150_000, aberrantCount: 800, seed: 83,
                                       aberrantPhenotype: try AberrantPhenotype("CD27-,CD45@+0.55"), cloneSpread: 0.2)
        let fcs = directory.path("bright.fcs"), labelsPath = directory.path("bright.labels")
        let truth = try MarrowGenerator(spec).write(fcsPath: fcs, labelsPath: labelsPath)
        let labels = try #require(FileManager.default.contents(atPath: labelsPath))
        let aberrantCode = try #require(truth.labelCodes["aberrant-plasma-cell"])
        let plasmaCodes = Set(truth.labelCodes.filter { $0.key.contains("plasma-cell") }.values)
        func plasmaCellBits(_ template: GatingTemplate, _ name: String) throws -> [Bool] {
            let out = directory.path(name + ".h5")
            _ = try MRDAnalyzer.writingHDF5(template: template, workers: 2).analyze(path: fcs, eventsOutput: out)
            return try #require(try HDF5EventResults(path: out).membership(of: "plasma-cells"))
        }
        let bits = try plasmaCellBits(AnalysisTests.template, "bright")
        let clone = (0..<spec.events).filter { labels[$0] == aberrantCode }
        #expect(clone.count == truth.aberrantPlasmaCells)
        let cloneIn = clone.filter { bits[$0] }.count
        #expect(Double(cloneIn) >= 0.99 * Double(clone.count), "\(cloneIn) of \(clone.count) clone events are plasma cells")
        // No other population enters the plasma-cell gate for it.
        let others = (0..<spec.events).filter { bits[$0] && !plasmaCodes.contains(labels[$0]) }.count
        #expect(others <= 5, "\(others) events of other populations in the plasma-cell gate")
        // The template's old gate (every plasma cell inside the CD45/SSC region) loses a large part of the clone.
        let text = try String(contentsOfFile: TemplateTests.bundled, encoding: .utf8)
        let old = "    or: [cd138-plasma-cells, cd38-plasma-cells]"
        try #require(text.contains(old))
        let oldPath = directory.path("old-gate.yaml")
        try text.replacingOccurrences(of: old, with: "    and: [pc-markers, pc-region]").write(toFile: oldPath, atomically: true, encoding: .utf8)
        let oldBits = try plasmaCellBits(try GatingTemplate(path: oldPath), "old-gate")
        let oldIn = clone.filter { oldBits[$0] }.count
        #expect(Double(oldIn) < 0.8 * Double(clone.count), "\(oldIn) of \(clone.count) inside the old gate")
    }

    @Test("the file is byte-identical whatever the worker count")
    func deterministic() throws {
        let fcs = directory.path("det.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 200_000, aberrantFraction: 1e-3, seed: 82)).write(fcsPath: fcs)
        var analyzer = MRDAnalyzer.writingHDF5(template: AnalysisTests.template, workers: 1)
        analyzer.computeChecksum = false
        _ = try analyzer.analyze(path: fcs, eventsOutput: directory.path("one.h5"))
        analyzer.workers = 2
        _ = try analyzer.analyze(path: fcs, eventsOutput: directory.path("two.h5"))
        let one = try #require(FileManager.default.contents(atPath: directory.path("one.h5")))
        let two = try #require(FileManager.default.contents(atPath: directory.path("two.h5")))
        #expect(one == two)
    }

    @Test("an unwritable place is an error naming it and leaves nothing; a sample not evaluable before gating gets no file and says so")
    func failures() throws {
        let fcs = directory.path("f.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 5_000, seed: 83)).write(fcsPath: fcs)
        let bad = directory.path("missing-folder/out.h5")
        #expect { try MRDAnalyzer.writingHDF5(template: AnalysisTests.template).analyze(path: fcs, eventsOutput: bad) } throws: { error in
            "\(error)".contains(bad)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted() == ["f.fcs"])
        // The MRD library alone knows no results format: asking for one is the exact error, and no file.
        let plain = directory.path("plain.h5")
        #expect(throws: MRDError.input(file: plain, detail: "per-event results were asked for, but this analysis was given no results format")) {
            try MRDAnalyzer(template: AnalysisTests.template).analyze(path: fcs, eventsOutput: plain)
        }
        #expect(!FileManager.default.fileExists(atPath: plain))
        // A template asking for a marker the file lacks: not evaluable before gating.
        var text = try String(contentsOfFile: TemplateTests.bundled, encoding: .utf8)
        text = text.replacingOccurrences(of: "CD81", with: "CD99").replacingOccurrences(of: "[Pacific Blue-A, BV421-A]", with: "[NoSuch-A]")
        let template = try GatingTemplate(yaml: text, path: "t.yaml")
        let out = directory.path("none.h5")
        let result = try MRDAnalyzer.writingHDF5(template: template).analyze(path: fcs, eventsOutput: out)
        #expect(result.call == .notEvaluable)
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(result.warnings.contains { $0.contains("per-event results not written to \(out)") })
    }
}

extension MRDAnalyzer {
    /// An analyzer that writes per-event results as HDF5 (as the command line's does).
    static func writingHDF5(template: GatingTemplate, workers: Int = 2) -> MRDAnalyzer {
        var analyzer = MRDAnalyzer(template: template, workers: workers)
        analyzer.resultsFormat = HDF5EventResultsFormat()
        return analyzer
    }
}

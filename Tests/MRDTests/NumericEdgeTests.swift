import EventCore
import FCS
import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// Numeric edge cases: each gives a defined result with a stated warning or reason, never a
/// silently wrong MRD figure.
@Suite("Numeric edge cases")
struct NumericEdgeTests {
    let directory = TemporaryDirectory()
    let analyzer = MRDAnalyzer(template: AnalysisTests.template, workers: 2)

    /// A synthetic positive sample rewritten with `change` applied to every block (event index of the block's first event given).
    func rewritten(_ name: String, spillover: SpilloverMatrix? = LegendPanel.spillover,
                   change: (inout EventBlock<Float>, Int) -> Void = { _, _ in }) throws -> (base: String, changed: String) {
        let base = directory.path(name + "-base.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 30_000, aberrantFraction: 0.01, seed: 81)).write(fcsPath: base)
        let file = try FCSFile(path: base)
        let path = directory.path(name + ".fcs")
        let writer = try FCSWriter(path: path, channels: LegendPanel.channels, eventCount: file.dataSets[0].eventCount, keywords: DataSetKeywords(),
                                   spillover: spillover, durable: false)
        var reader = try file.reader()
        var block = reader.makeBlock(of: Float.self)
        var first = 0
        while try reader.next(into: &block) {
            change(&block, first)
            first += block.count
            try writer.append(block)
        }
        try writer.finish()
        return (base, path)
    }

    @Test("NaN and infinite values: counted per channel, warned, QC fails; the events only leave the gates that use them")
    func nonFinite() throws {
        let (base, path) = try rewritten("nan") { block, first in
            for e in 0..<block.count {
                let event = first + e
                if (100..<150).contains(event) { block[4, e] = event % 2 == 0 ? .nan : -.infinity }   // CD45 (APC-H7-A)
                if (200..<210).contains(event) { block[0, e] = .infinity }                          // FSC-A
            }
        }
        let clean = try analyzer.analyze(path: base)
        let r = try analyzer.analyze(path: path)
        #expect(r.warnings.contains("non-finite event values (NaN or infinity) in APC-H7-A: 50, FSC-A: 10; those events fall outside every gate that uses the channel"))
        #expect(r.qc.failures.contains("non-finite event values (NaN or infinity): APC-H7-A 50, FSC-A 10"))
        #expect(clean.warnings.allSatisfy { !$0.contains("non-finite") } && clean.qc.failures.allSatisfy { !$0.contains("non-finite") })
        #expect(r.nucleatedCells <= clean.nucleatedCells && r.nucleatedCells >= clean.nucleatedCells - 60)
        #expect(abs(r.aberrantPC.count - clean.aberrantPC.count) <= 60)
        #expect(r.call == clean.call)
    }

    @Test("an all-zero channel: a dead detector makes the sample not evaluable, whatever it shows; its rule is reported off")
    func allZero() throws {
        let (_, path) = try rewritten("zero-cd19") { block, _ in for e in 0..<block.count { block[7, e] = 0 } }  // CD19 (PE-Cy7-A)
        let r = try analyzer.analyze(path: path)
        let cd19 = r.thresholds.filter { $0.marker == "CD19" }
        // Every CD19 boundary (the gates cd19-positive, cd19-positive-nucleated and the rule) is switched off: no value.
        #expect(cd19.map(\.name).sorted() == ["cd19-positive", "cd19-positive-nucleated", "rule:CD19"], "\(cd19)")
        #expect(cd19.allSatisfy { $0.switchedOff && $0.value == nil }, "\(cd19)")
        #expect(r.warnings.contains("cd19-positive: no valley between two peaks in 0.3…0.7; the gate is switched off for this sample (it selects no event, and a negative cannot rest on it)"), "\(r.warnings)")
        #expect(r.gates.first { $0.id == "cd19-positive" }?.count == 0)
        #expect(r.clonality?.rulesOff.contains("CD19") == true)
        #expect(r.call == .notEvaluable)
        #expect(r.notEvaluableReasons == ["channel PE-Cy7-A reads the same value (0.0) for every event: a dead detector"], "\(r.notEvaluableReasons)")
        #expect(r.mrdPercent == nil && r.mrdCI95Percent == nil)
        #expect(r.normalPC.count + r.aberrantPC.count + r.unreadPC.count == r.plasmaCells.count)
    }

    @Test("a singular spillover matrix in the file: not evaluable, with the reason")
    func singularSpillover() throws {
        let names = LegendPanel.channels.dropFirst(LegendPanel.firstMarkerChannel).map(\.name)
        var values = [Double](repeating: 0, count: 100)
        for i in 0..<10 { values[i * 10 + i] = 1 }
        for j in 0..<10 { values[10 + j] = values[j] }   // row 2 = row 1: singular
        let singular = try SpilloverMatrix(channels: Array(names), values: values, source: .spillover)
        let (_, path) = try rewritten("singular", spillover: singular)
        let r = try analyzer.analyze(path: path)
        #expect(r.call == .notEvaluable)
        #expect(r.notEvaluableReasons.first?.hasPrefix("QC failure: the file's spillover matrix cannot be inverted") == true, "\(r.notEvaluableReasons)")
        #expect(r.mrdPercent == nil && r.qc.passed == false)
    }

    @Test("no plasma cells at all: MRD 0 with a warning that names the likely causes")
    func noPlasmaCells() throws {
        let (_, path) = try rewritten("no-pc") { block, _ in
            for e in 0..<block.count { block[5, e] = 0; block[6, e] = 0 }   // CD38 (BV510-A), CD138 (APC-A)
        }
        let r = try analyzer.analyze(path: path)
        #expect(r.plasmaCells.count == 0 && r.aberrantPC.count == 0)
        #expect(r.notEvaluableReasons.contains("channel BV510-A reads the same value (0.0) for every event: a dead detector"))
        #expect(r.warnings.contains { $0.hasPrefix("no plasma cells (normal or aberrant) were found") })
        #expect(r.call == .notEvaluable)   // 30,000 events: too few for a negative in any case
    }
}

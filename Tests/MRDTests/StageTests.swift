import Cytometry
import FCS
import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// The analysis stages one at a time: sample preparation, the plasma-cell scan, then (in
/// ClonalityTests and RestrictedSubsetTests) clustering and clonality and the call.
@Suite("Analysis stages alone")
struct StageTests {
    let directory = TemporaryDirectory()

    @Test("sample preparation: the panel and the file's compensation; a marker the file lacks is not evaluable before any event is read")
    func preparation() throws {
        let path = directory.path("prep.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 5_000, seed: 31)).write(fcsPath: path)
        let file = try FCSFile(path: path)
        let dataSet = file.dataSets[file.defaultDataSetIndex]
        guard case .ready(let ready) = try SamplePreparation.prepare(template: AnalysisTests.template, dataSet: dataSet, path: path) else {
            Issue.record("not ready")
            return
        }
        // Every template marker is mapped to a channel of the file, and the analysis reports the same mapping.
        #expect(Set(ready.panel.keys) == Set(AnalysisTests.template.panel.map(\.name)))
        #expect(ready.panel.values.allSatisfy { channel in dataSet.channels.contains { $0.name == channel } })
        #expect(ready.compensation == .file && ready.warnings.isEmpty)
        #expect(try MRDAnalyzer(template: AnalysisTests.template, workers: 1).analyze(path: path).panel == ready.panel)
        let text = try String(contentsOfFile: TemplateTests.bundled, encoding: .utf8)
            .replacingOccurrences(of: "CD81", with: "CD99").replacingOccurrences(of: "[Pacific Blue-A, BV421-A]", with: "[NoSuch-A]")
        let lacking = try GatingTemplate(yaml: text, path: "lab.yaml")
        guard case .notEvaluable(let reason, let panel) = try SamplePreparation.prepare(template: lacking, dataSet: dataSet, path: path) else {
            Issue.record("a missing marker was accepted")
            return
        }
        #expect(reason.hasPrefix("panel incomplete: marker \"CD99\" not found") && reason.contains("CD99") && panel.isEmpty, "\(reason)")
    }

    @Test("data-driven gates: values read ahead of a gate's turn (its population placed, its parent not) give the same gates, thresholds and warnings in fewer subsample passes")
    func readAhead() throws {
        let path = directory.path("ahead.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 60_000, aberrantCount: 300, seed: 33)).write(fcsPath: path)
        let template = AnalysisTests.template
        let file = try FCSFile(path: path)
        let index = file.defaultDataSetIndex
        guard case .ready(let ready) = try SamplePreparation.prepare(template: template, dataSet: file.dataSets[index], path: path) else {
            Issue.record("not ready")
            return
        }
        try SampleGating.prepareTransforms(template)
        func resolved(ahead: Bool, workers: Int) throws -> SampleGating {
            var gating = SampleGating(template: template, mapping: ready.mapping, file: file, dataSetIndex: index, path: path,
                                      compensation: ready.compensation, matrices: ready.matrices, workers: workers, subsampleEvents: 20_000)
            gating.readsAhead = ahead
            try gating.resolve()
            return gating
        }
        let inTurn = try resolved(ahead: false, workers: 1), ahead = try resolved(ahead: true, workers: 2)
        // The bundled template: singlets; the lymphocytes' CD45, CD138, CD38 and CD19/CD56 rules; small; the
        // plasma-cell reference's rules. Read in turn, the CD19 and CD56 valleys of the plasma-cell gates
        // (placed on the lymphocytes, waiting for the plasma cells) take a pass of their own.
        #expect(inTurn.subsamplePasses == 5 && ahead.subsamplePasses == 4, "\(inTurn.subsamplePasses) \(ahead.subsamplePasses)")
        #expect(ahead.gates == inTurn.gates && ahead.thresholds == inTurn.thresholds && ahead.warnings == inTurn.warnings)
        #expect(ahead.ruleThresholds == inTurn.ruleThresholds && ahead.gatesOff.map(\.id) == inTurn.gatesOff.map(\.id))
        #expect(ahead.thresholds.contains { $0.name == "cd19-positive" && $0.method == "valley" && $0.value != nil })
    }

    @Test("the plasma-cell scan: one row per plasma-cell gate event, in event order, the same on one worker as on three; event indices only when asked")
    func scan() throws {
        let path = directory.path("scan.fcs")
        let truth = try MarrowGenerator(MarrowSpecification(events: 40_000, aberrantCount: 200, seed: 32)).write(fcsPath: path)
        func run(workers: Int, eventIndices: Bool = true) throws -> PlasmaCellScan.Result {
            let template = AnalysisTests.template
            let file = try FCSFile(path: path)
            let index = file.defaultDataSetIndex
            guard case .ready(let ready) = try SamplePreparation.prepare(template: template, dataSet: file.dataSets[index], path: path) else {
                throw MRDError.input(file: path, detail: "not ready")
            }
            try SampleGating.prepareTransforms(template)
            var gating = SampleGating(template: template, mapping: ready.mapping, file: file, dataSetIndex: index, path: path,
                                      compensation: ready.compensation, matrices: ready.matrices, workers: workers, subsampleEvents: 300_000)
            try gating.resolve()
            return try PlasmaCellScan(template: template, workers: workers)
                .run(gating: gating, tree: try gating.tree(gating.gates), file: file, index: index, path: path, audit: nil, plans: [], timeBinning: gating.timeBinning,
                     eventIndices: eventIndices)
        }
        let one = try run(workers: 1), three = try run(workers: 3)
        let gated = try #require(one.gating.gates.first { $0.id == AnalysisTests.template.mrd.plasmaCells }).count
        #expect(one.candidateEvents.count == gated && one.candidates.count == gated * one.columns.count)
        #expect(zip(one.candidateEvents, one.candidateEvents.dropFirst()).allSatisfy { $0 < $1 })
        #expect(one.events == 40_000 && one.nonFinite.isEmpty && one.constant.isEmpty)
        // Plasma cells gated: about the generated ones (normal and clone), none lost to the workers.
        let generated = truth.aberrantPlasmaCells + truth.normalKappa + truth.normalLambda
        #expect(Double(gated) > 0.9 * Double(generated) && Double(gated) < 1.1 * Double(generated), "\(gated) of \(generated)")
        #expect(one.candidateEvents == three.candidateEvents && one.candidates == three.candidates && one.ruleFlags == three.ruleFlags)
        // Without an audit the event indices are not kept; the rows are the same.
        let plain = try run(workers: 2, eventIndices: false)
        #expect(plain.candidateEvents.isEmpty && plain.candidateCount == gated && one.candidateCount == gated)
        #expect(plain.candidates == one.candidates && plain.ruleFlags == one.ruleFlags)
    }

    @Test("a block's plasma cells listed eight mask bytes at a time: the positions of the nonzero bytes, in order, at every length and offset")
    func listSet() {
        var state: UInt64 = 5
        var positions = [Int](repeating: 9, count: 4_096)
        for n in [0, 1, 7, 8, 9, 63, 64, 65, 4_096] {
            for density in [0.0, 0.01, 0.3, 1.0] {
                let mask = (0..<n).map { _ -> UInt8 in
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    return Double(state >> 11) / Double(1 << 53) < density ? UInt8(truncatingIfNeeded: state >> 3) | 1 : 0
                }
                let k = mask.withUnsafeBufferPointer { m in
                    positions.withUnsafeMutableBufferPointer { ColumnKernels.listNonzero(m.baseAddress ?? UnsafePointer(bitPattern: 1)!, count: n, into: $0.baseAddress!) }
                }
                #expect(Array(positions[0..<k]) == mask.indices.filter { mask[$0] != 0 }, "n \(n), density \(density)")
            }
        }
    }
}


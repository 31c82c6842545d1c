import Cytometry
import EventCore
import FCS
import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// The analysis against synthetic marrow whose truth is known.
@Suite("MRD analysis on synthetic marrow")
struct AnalysisTests {
    let directory = TemporaryDirectory()
    static let template = try! GatingTemplate(path: TemplateTests.bundled)
    let analyzer = MRDAnalyzer(template: AnalysisTests.template, workers: 2)

    /// These tests check the rule-based engine's mechanics (counts, the 30-event limit, scattered
    /// events) on the old generator's model: normal plasma cells of the majority phenotype only and
    /// a clone of fixed width and shift. The engine on realistic marrow (normal subsets, drawn
    /// clones) is measured by the validation matrix (docs/validation.md).
    static func oldModel(_ spec: MarrowSpecification) -> MarrowSpecification {
        var legacy = spec.uniformNormals()
        legacy.cloneSpread = spec.cloneSpread ?? 0.15
        legacy.cloneShift = spec.cloneShift ?? 1.0
        return legacy
    }

    func synth(_ spec: MarrowSpecification, _ name: String) throws -> (String, MarrowTruth) {
        let path = directory.path(name + ".fcs")
        return (path, try MarrowGenerator(Self.oldModel(spec)).write(fcsPath: path))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let events: Int, fraction: Double, seed: UInt64, phenotype: String?, chain: LightChain, hemodilution: Double
        /// Markers the phenotype makes reduced (−) or increased (+) against normal plasma cells.
        let reduced: [String], increased: [String]
        var testDescription: String { "\(events) events, MRD \(fraction), \(phenotype ?? "default clone"), \(chain), hemodilution \(hemodilution)" }
    }

    @Test("aberrant count within the Poisson 95% interval of truth; light chain and phenotype recovered", arguments: [
        Case(events: 150_000, fraction: 1e-2, seed: 21, phenotype: nil, chain: .kappa, hemodilution: 0,
             reduced: ["CD19", "CD45", "CD27", "CD81", "CD38"], increased: ["CD56"]),
        Case(events: 150_000, fraction: 1e-2, seed: 22, phenotype: "CD19-,CD117+,CD27dim", chain: .lambda, hemodilution: 0.4,
             reduced: ["CD19", "CD27"], increased: ["CD117"]),
        Case(events: 150_000, fraction: 1e-2, seed: 23, phenotype: "CD19-,CD56++,CD81dim", chain: .kappa, hemodilution: 0,
             reduced: ["CD19", "CD81"], increased: ["CD56"]),
        Case(events: 300_000, fraction: 1e-3, seed: 24, phenotype: nil, chain: .lambda, hemodilution: 0.2,
             reduced: ["CD19", "CD45", "CD27", "CD81"], increased: ["CD56"]),
    ])
    func accuracy(_ c: Case) throws {
        let (path, truth) = try synth(MarrowSpecification(events: c.events, aberrantFraction: c.fraction, seed: c.seed, hemodilution: c.hemodilution,
                                                          lightChain: c.chain, aberrantPhenotype: try c.phenotype.map { try AberrantPhenotype($0) }), "acc")
        let r = try analyzer.analyze(path: path)
        let expected = Double(truth.aberrantPlasmaCells)
        #expect(abs(Double(r.aberrantPC.count) - expected) <= 1.96 * expected.squareRoot(), "aberrant \(r.aberrantPC.count) vs truth \(truth.aberrantPlasmaCells)")
        #expect(abs(Double(r.nucleatedCells - truth.nucleatedCells)) <= 0.002 * Double(truth.nucleatedCells), "nucleated \(r.nucleatedCells) vs \(truth.nucleatedCells)")
        #expect(r.call == .positive)
        #expect(r.lightChains.aberrant == c.chain.rawValue)
        let patterns = Dictionary(uniqueKeysWithValues: r.phenotype.map { ($0.marker, $0.pattern) })
        for m in c.reduced { #expect(patterns[m] == "reduced", "\(m): \(patterns[m] ?? "-")") }
        for m in c.increased { #expect(patterns[m] == "increased", "\(m): \(patterns[m] ?? "-")") }
        #expect(patterns["CD138"] == "normal")
        let mrd = try #require(r.mrdPercent)
        let ci = try #require(r.mrdCI95Percent)
        #expect(ci[0] <= mrd && mrd <= ci[1])
        // Normal plasma cells are all of the plasma cells that are not aberrant.
        #expect(r.normalPC.count + r.aberrantPC.count + r.unreadPC.count == r.plasmaCells.count)
        #expect(abs(Double(r.normalPC.count - truth.counts["normal-plasma-cell"]!)) <= 0.03 * Double(truth.counts["normal-plasma-cell"]!) + 5)
    }

    @Test("no positive call on 20 MRD-zero files")
    func noFalsePositives() throws {
        for seed in UInt64(100)..<120 {
            let (path, _) = try synth(MarrowSpecification(events: 30_000, aberrantFraction: 0, seed: seed, hemodilution: Double(seed % 3) * 0.2), "zero\(seed)")
            let r = try analyzer.analyze(path: path)
            #expect(r.call != .positive && r.call != .positiveBelowLLOQ, "seed \(seed): \(r.callText)")
            #expect((r.aberrantClusters.first ?? 0) < 30)
        }
    }

    @Test("the call at the 30-event limit: 30 clustered events are positive below LLOQ, 29 are not")
    func borderline() throws {
        let (p30, _) = try synth(MarrowSpecification(events: 40_000, aberrantCount: 30, seed: 31), "b30")
        let r30 = try analyzer.analyze(path: p30)
        #expect(r30.aberrantPC.count == 30)
        #expect(r30.call == .positiveBelowLLOQ, "\(r30.callText)")
        let (p29, _) = try synth(MarrowSpecification(events: 40_000, aberrantCount: 29, seed: 31), "b29")
        let r29 = try analyzer.analyze(path: p29)
        #expect(r29.aberrantPC.count == 29)
        // 40,000 events cannot reach 1.5 million nucleated cells: without a cluster of 30 it is not evaluable.
        #expect(r29.call == .notEvaluable)
        #expect(r29.notEvaluableReasons.contains { $0.contains("too few nucleated cells") })
    }

    /// A 30,000-event MRD-zero file with extra events appended (true levels spread by the panel's spillover).
    func withInjected(_ rows: [[Double]], name: String) throws -> String {
        let (base, _) = try synth(MarrowSpecification(events: 30_000, aberrantFraction: 0, seed: 41), name + "-base")
        let file = try FCSFile(path: base)
        let ds = file.dataSets[0]
        let path = directory.path(name + ".fcs")
        let writer = try FCSWriter(path: path, channels: LegendPanel.channels, eventCount: ds.eventCount + rows.count,
                                   keywords: DataSetKeywords(), spillover: try ds.spillover.get(), durable: false)
        var reader = try file.reader()
        var block = reader.makeBlock(of: Float.self)
        var lastTime: Float = 0
        while try reader.next(into: &block) {
            try writer.append(block)
            lastTime = block[3, block.count - 1]
        }
        let s = LegendPanel.spillover
        var extra = EventBlock<Float>(channelCount: 14, capacity: rows.count)
        extra.setCount(rows.count)
        for (e, row) in rows.enumerated() {
            extra[0, e] = Float(row[0]); extra[1, e] = Float(row[0] * 0.82); extra[2, e] = Float(row[1]); extra[3, e] = lastTime
            for j in 0..<10 {
                var sum = 0.0
                for i in 0..<10 { sum += row[2 + i] * s[i, j] }
                extra[4 + j, e] = Float(sum)
            }
        }
        try writer.append(extra)
        try writer.finish()
        return path
    }

    @Test("40 scattered events that each pass the rules give no positive call; a tight cluster of 30 does")
    func scatteredVersusClustered() throws {
        var state: UInt64 = 99
        func logUniform(_ lo: Double, _ hi: Double) -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return lo * pow(hi / lo, Double(state >> 11) / Double(1 << 53))
        }
        // Marker order: CD45, CD38, CD138, CD19, CD56, CD117, CD81, CD27, kappa, lambda.
        // Every scattered event is CD19− and CD45− (two aberrancies), plasma-cell sized and CD138+,
        // with the other markers spread over decades.
        let scattered: [[Double]] = (0..<40).map { k in
            [85_000, 40_000, 0, logUniform(20_000, 150_000), logUniform(10_000, 60_000), 0, logUniform(50, 60_000),
             logUniform(50, 30_000), logUniform(50, 30_000), logUniform(50, 40_000), k % 2 == 0 ? 50_000 : 0, k % 2 == 0 ? 0 : 50_000]
        }
        let clone: [[Double]] = (0..<30).map { _ in
            [logUniform(80_000, 90_000), logUniform(38_000, 42_000), 0, logUniform(24_000, 26_000), logUniform(28_000, 32_000), 0,
             logUniform(28_000, 32_000), 0, logUniform(650, 750), logUniform(1_100, 1_300), 50_000, 0]
        }
        let spread = try analyzer.analyze(path: try withInjected(scattered, name: "scattered"))
        #expect(spread.unclusteredAberrantEvents + spread.aberrantPC.count >= 35, "most scattered events pass the rules")
        #expect((spread.aberrantClusters.first ?? 0) < 30)
        #expect(spread.call != .positive && spread.call != .positiveBelowLLOQ)
        let tight = try analyzer.analyze(path: try withInjected(scattered + clone, name: "tight"))
        #expect(tight.aberrantClusters.first == 30)
        #expect(tight.call == .positiveBelowLLOQ, "\(tight.callText)")
        #expect(tight.lightChains.aberrant == "kappa")
    }

    @Test("same file and template give identical results")
    func determinism() throws {
        let (path, _) = try synth(MarrowSpecification(events: 60_000, aberrantFraction: 5e-3, seed: 51), "det")
        let a = try MRDAnalyzer(template: Self.template, workers: 2).analyze(path: path)
        let b = try MRDAnalyzer(template: Self.template, workers: 1).analyze(path: path)
        #expect(a == b)
    }

    @Test("a file without the template's markers or without spillover is not evaluable, with the reason")
    func notEvaluable() throws {
        let (base, _) = try synth(MarrowSpecification(events: 5_000, aberrantFraction: 0, seed: 61), "ne")
        let file = try FCSFile(path: base)
        // Rewrite without CD81 and, separately, without a spillover keyword.
        for variant in ["no-cd81", "no-spillover"] {
            let keep = variant == "no-cd81" ? (0..<14).filter { LegendPanel.channels[$0].marker != "CD81" } : Array(0..<14)
            let path = directory.path(variant + ".fcs")
            let writer = try FCSWriter(path: path, channels: keep.map { LegendPanel.channels[$0] }, eventCount: 5_000, keywords: DataSetKeywords(),
                                       spillover: variant == "no-cd81" ? try SpilloverMatrix(channels: ["APC-A"], values: [1]) : nil, durable: false)
            var reader = try file.reader()
            var block = reader.makeBlock(of: Float.self)
            while try reader.next(into: &block) {
                var out = EventBlock<Float>(channelCount: keep.count, capacity: block.count)
                out.setCount(block.count)
                for (k, c) in keep.enumerated() { for e in 0..<block.count { out[k, e] = block[c, e] } }
                try writer.append(out)
            }
            try writer.finish()
            let r = try analyzer.analyze(path: path)
            #expect(r.call == .notEvaluable)
            let reason = try #require(r.notEvaluableReasons.first)
            #expect(reason.contains(variant == "no-cd81" ? "marker \"CD81\" not found" : "no spillover matrix"), "\(reason)")
        }
    }

    @Test("a truncated file is an error naming the file, not a result")
    func truncated() throws {
        let (path, _) = try synth(MarrowSpecification(events: 5_000, seed: 71), "trunc")
        let data = try #require(FileManager.default.contents(atPath: path))
        try data.prefix(data.count - 1000).write(to: URL(fileURLWithPath: path))
        #expect { try analyzer.analyze(path: path) } throws: { error in
            guard let e = error as? MRDError, case .fcs(let fcs) = e else { return false }
            return fcs.file == path
        }
    }
}

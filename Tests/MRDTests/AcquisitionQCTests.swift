import EventCore
import FCS
import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// Acquisition QC against synthetic marrow whose acquisition and composition are known.
@Suite("Acquisition QC")
struct AcquisitionQCTests {
    let directory = TemporaryDirectory()
    let analyzer = MRDAnalyzer(template: AnalysisTests.template, workers: 2)

    func synth(_ spec: MarrowSpecification, _ name: String) throws -> (String, MarrowTruth) {
        let path = directory.path(name + ".fcs")
        return (path, try MarrowGenerator(spec).write(fcsPath: path))
    }

    @Test("counts, time and rate of a stable run; the QC counts are the gate counts")
    func stableRun() throws {
        let (path, truth) = try synth(MarrowSpecification(events: 60_000, seed: 61), "stable")
        let r = try analyzer.analyze(path: path)
        let q = r.qc
        #expect(q.declaredEvents == 60_000 && q.eventsRead == 60_000)
        // 10,000 events per second by construction (exponential gaps): the mean rate within 2%.
        let rate = try #require(q.meanEventsPerSecond)
        #expect(abs(rate - 10_000) < 200, "rate \(rate)")
        let seconds = try #require(q.acquisitionSeconds)
        #expect(abs(seconds * rate - 60_000) < 1)
        #expect(q.timeStability.verdict == "stable" && q.timeStability.excludedEvents == 0)
        #expect(q.timeStability.eventsPerBin.reduce(0, +) == 60_000)
        let counts = Dictionary(uniqueKeysWithValues: r.gates.map { ($0.id, $0.count) })
        #expect(q.singlets == counts["singlets"] && q.nonDebris == counts["non-debris"] && q.nucleatedCells == r.nucleatedCells)
        #expect(abs(q.nucleatedCells - truth.nucleatedCells) <= truth.nucleatedCells / 200)
        #expect(q.minimumMet == false)
        #expect(q.failures == ["too few nucleated cells: \(q.nucleatedCells) (at least 1500000 needed)"])
        #expect(q.lodPercent == round6(100 * 30 / Double(q.nucleatedCells)) && q.lloqPercent == round6(100 * 50 / Double(q.nucleatedCells)))
        #expect(!q.passed)
    }

    @Test("a burst is found and excluded (irregular, passes); a long clog fails the time check")
    func flowProfiles() throws {
        let (burstPath, _) = try synth(MarrowSpecification(events: 60_000, seed: 62, flow: .burst), "burst")
        let burst = try analyzer.analyze(path: burstPath).qc.timeStability
        #expect(burst.verdict == "irregular", "\(burst)")
        #expect(burst.burstBins > 0 && !burst.excludedStretches.isEmpty)
        // The burst holds 5% of the events (40–45% of the run); the gate excludes about that many.
        #expect(burst.excludedPercent > 2 && burst.excludedPercent < 12, "\(burst.excludedPercent)")
        let (clogPath, _) = try synth(MarrowSpecification(events: 60_000, seed: 63, flow: .clog), "clog")
        let clog = try analyzer.analyze(path: clogPath).qc
        #expect(clog.timeStability.verdict == "unstable")
        #expect(clog.failures.contains { $0.hasPrefix("unstable acquisition: the time gate excluded") })
    }

    @Test("hemodilution indicators: pure gates near truth; dilution lowers every indicator; the flag follows the limits")
    func hemodilution() throws {
        let (cleanPath, truth) = try synth(MarrowSpecification(events: 200_000, seed: 64), "clean")
        let (dilutedPath, _) = try synth(MarrowSpecification(events: 200_000, seed: 64, hemodilution: 0.8), "diluted")
        let clean = try analyzer.analyze(path: cleanPath).qc
        let diluted = try analyzer.analyze(path: dilutedPath).qc
        let populations = ["b-cell-precursors": "b-cell-precursor", "mast-cells": "mast-cell", "erythroblasts": "erythroblast",
                           "myeloid-precursors": "myeloid-precursor"]
        #expect(clean.hemodilution.map(\.gate).sorted() == populations.keys.sorted())
        for indicator in clean.hemodilution {
            let expected = truth.counts[populations[indicator.gate]!]!
            // Singlet and debris gates lose a few events; the gates take (almost) nothing else.
            #expect(Double(indicator.count) <= 1.01 * Double(expected) && Double(indicator.count) >= 0.85 * Double(expected),
                    "\(indicator.gate): \(indicator.count) vs truth \(expected)")
            #expect(indicator.percentOfNucleated == round6(100 * Double(indicator.count) / Double(clean.nucleatedCells)))
            let after = try #require(diluted.hemodilution.first { $0.gate == indicator.gate })
            #expect(after.percentOfNucleated < 0.4 * indicator.percentOfNucleated, "\(indicator.gate): \(after.percentOfNucleated) vs \(indicator.percentOfNucleated)")
        }
        #expect(!clean.hemodiluted && !diluted.hemodiluted)
        // Limits between the diluted and the clean values flag the diluted sample only.
        var limits: [String: Double] = [:]
        for indicator in clean.hemodilution {
            let after = diluted.hemodilution.first { $0.gate == indicator.gate }!
            limits[indicator.gate] = (indicator.percentOfNucleated + after.percentOfNucleated) / 2
        }
        var strict = analyzer
        strict = MRDAnalyzer(template: try AnalysisTests.template.overridingQCLimits(limits), workers: 2)
        let cleanStrict = try strict.analyze(path: cleanPath)
        let dilutedStrict = try strict.analyze(path: dilutedPath)
        #expect(!cleanStrict.qc.hemodiluted && cleanStrict.qc.hemodilution.allSatisfy { !$0.belowLimit })
        #expect(dilutedStrict.qc.hemodiluted && dilutedStrict.qc.hemodilution.allSatisfy(\.belowLimit))
        #expect(dilutedStrict.qc.failures.contains { $0.hasPrefix("hemodiluted: 4 of 4 marrow indicators below their reference limit") })
        #expect(dilutedStrict.warnings.contains { $0.hasPrefix("QC: the sample looks hemodiluted") })
        #expect(throws: MRDError.self) { try AnalysisTests.template.overridingQCLimits(["mast-cell": 1]) }
    }

    @Test("a truncated file read partially fails QC: fewer events read than $TOT")
    func truncated() throws {
        let (path, _) = try synth(MarrowSpecification(events: 20_000, seed: 66), "truncated")
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size - 56 * 100 - 30))
        try handle.close()
        #expect(throws: MRDError.self) { try analyzer.analyze(path: path) }
        var partial = analyzer
        partial.readOptions = ReadOptions(allowPartialData: true)
        let q = try partial.analyze(path: path).qc
        #expect(q.declaredEvents == 20_000)
        #expect(q.eventsRead < 20_000 && q.eventsRead > 19_800)
        #expect(q.failures.first == "events read (\(q.eventsRead)) differ from $TOT (20000)")
        #expect(q.parserWarnings.contains { $0.contains("file is truncated") })
    }

    @Test("a file that cannot be gated still reports its event counts and why")
    func notGated() throws {
        // The committed reader smoke sample has no spillover matrix, which the template needs.
        let path = URL(fileURLWithPath: TemplateTests.bundled).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples/demo-10color.fcs").path
        let q = try analyzer.analyze(path: path).qc
        #expect(q.declaredEvents == 10_000 && q.eventsRead == 10_000 && q.hemodilution.isEmpty && !q.passed)
        #expect(q.failures == ["not gated: QC failure: the file carries no spillover matrix, and the template asks for the file's compensation"])
        #expect(q.timeStability.verdict == "not_assessed")
    }
}

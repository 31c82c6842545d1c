import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Report
@testable import Synthetic

/// The validation matrix harness: the plan, the verdict of each call, and the tallies.
@Suite("Validation matrix")
struct ValidationMatrixTests {
    let directory = TemporaryDirectory()

    @Test("the plan: conditions × levels × seeds, distinct seeds, valid specifications, the 10⁻⁵ level at 5 million events")
    func plan() throws {
        let plan = ValidationMatrixPlan()
        let cells = plan.cells()
        #expect(cells.count == 19 * 5 * 4 && plan.fileCount == cells.count && cells.count >= 300)
        #expect(Set(cells.map(\.specification.seed)).count == cells.count)
        for cell in cells { try cell.specification.validate() }
        #expect(cells.filter { $0.level == 1e-5 }.allSatisfy { $0.specification.events == 5_000_000 })
        #expect(cells.filter { $0.level != 1e-5 }.allSatisfy { $0.specification.events == 2_000_000 })
        // Each condition's specification carries what the condition says.
        func specs(_ name: String) -> [MarrowSpecification] { cells.filter { $0.condition.name == name }.map(\.specification) }
        #expect(specs("single-CD117+").allSatisfy { $0.aberrantPhenotype?.description == "CD117+" })
        #expect(specs("CD19+-clone").allSatisfy { !($0.aberrantPhenotype!.aberrantMarkers.contains(.cd19)) && !$0.aberrantPhenotype!.aberrantMarkers.isEmpty })
        #expect(specs("hemodiluted").allSatisfy { (0.85...0.95).contains($0.hemodilution) })
        #expect(specs("plain").allSatisfy { $0.hemodilution <= 0.3 })
        #expect(specs("anti-CD38").allSatisfy(\.antiCD38) && specs("post-CAR-T").allSatisfy(\.postCART) && specs("regenerating").allSatisfy(\.regenerating))
        #expect(specs("dead-channel").allSatisfy { if case .deadChannel = $0.faults.first { return true } else { return false } })
        #expect(specs("wide-clone").allSatisfy { ($0.cloneSpread ?? 0) >= 0.28 })
        #expect(Set(cells.map(\.specification.lightChain)).count == 2)
        // Deterministic.
        #expect(ValidationMatrixPlan().cells() == cells)
        // A part of the matrix holds the full matrix's files of its rows (the seed follows the condition and level,
        // not the plan's other levels); a level outside the default ones gets seeds of its own.
        var part = ValidationMatrixPlan()
        part.conditions = [MatrixCondition.named("single-CD56+")!, MatrixCondition.named("plain")!]
        part.levels = [1e-3, 2e-4, 1e-4]
        let partCells = part.cells()
        #expect(partCells.filter { $0.level != 2e-4 } == cells.filter { ["single-CD56+", "plain"].contains($0.condition.name) && [1e-3, 1e-4].contains($0.level) }
            .sorted { ($0.condition.name == "single-CD56+" ? 0 : 1, -$0.level, $0.replicate) < ($1.condition.name == "single-CD56+" ? 0 : 1, -$1.level, $1.replicate) })
        #expect(partCells.first { $0.condition.name == "single-CD56+" && $0.level == 1e-4 }?.specification.seed == 44_200)
        #expect(Set(partCells.filter { $0.level == 2e-4 }.map(\.specification.seed)).isDisjoint(with: cells.map(\.specification.seed)))
    }

    @Test("verdicts: every expectation against every call")
    func verdicts() {
        typealias V = MatrixVerdict
        let cases: [(MRDResult.Call?, Int, MatrixCondition.Expectation, V)] = [
            (.negative, 0, .evaluable, .correct), (.positive, 0, .evaluable, .falsePositive), (.positiveBelowLLOQ, 0, .evaluable, .falsePositive),
            (.notEvaluable, 0, .evaluable, .needlessNotEvaluable), (.negative, 50, .evaluable, .missedClone), (.notEvaluable, 179, .evaluable, .missedClone),
            (.negative, 45, .evaluable, .missedBelowLLOQ), (.negative, 19, .evaluable, .correct), (.positiveBelowLLOQ, 45, .evaluable, .correct),
            (.positive, 5, .evaluable, .correct), (nil, 0, .evaluable, .error),
            (.notEvaluable, 0, .noNormalPlasmaCells, .correct), (.negative, 0, .noNormalPlasmaCells, .correct), (.notEvaluable, 60, .noNormalPlasmaCells, .missedClone),
            (.negative, 0, .hemodiluted, .negativeOnInadequate), (.notEvaluable, 0, .hemodiluted, .correct), (.positive, 179, .hemodiluted, .correct),
            (.positive, 0, .hemodiluted, .falsePositive),
            (.notEvaluable, 179, .faulty, .correct), (.positive, 179, .faulty, .callOnFaulty), (.negative, 0, .faulty, .negativeOnInadequate),
            (.positive, 0, .faulty, .falsePositive),
        ]
        for (call, clone, expectation, verdict) in cases {
            #expect(MatrixVerdict.of(call: call, clone: clone, expectation: expectation) == verdict, "\(String(describing: call)) \(clone) \(expectation)")
        }
        #expect(!V.missedBelowLLOQ.isWrong && V.needlessNotEvaluable.isWrong && !V.correct.isWrong)
    }

    func outcome(_ condition: String, clone: Int, call: MRDResult.Call?, counted: Int, seed: UInt64, interval: [Double]? = nil) -> MatrixOutcome {
        let expectation = MatrixCondition.named(condition)!.expectation
        return MatrixOutcome(condition: condition, level: clone == 0 ? 0 : 1e-4, seed: seed, events: 2_000_000, cloneEvents: clone, nucleated: 1_790_000,
                             measurement: MatrixMeasurement(call: call, counted: counted, nucleated: 1_790_000, interval: interval),
                             verdict: .of(call: call, clone: clone, expectation: expectation), synthArguments: ["--seed", String(seed)], error: call == nil ? "boom" : nil)
    }

    @Test("tallies on a fixed set: false-positive rate and its exact interval, sensitivity, recovery, normal events, confusion, wrong calls")
    func tallies() {
        var plan = ValidationMatrixPlan()
        plan.conditions = ["plain", "hemodiluted", "dead-channel"].map { MatrixCondition.named($0)! }
        let outcomes = [
            outcome("plain", clone: 0, call: .negative, counted: 0, seed: 1),
            outcome("plain", clone: 0, call: .positive, counted: 120, seed: 2),
            outcome("plain", clone: 0, call: .negative, counted: 12, seed: 3),
            // Truth 179 / 1,790,000 = 0.01%: held by the first interval; 0.1% is not held by the second.
            outcome("plain", clone: 179, call: .positive, counted: 180, seed: 4, interval: [0.0086, 0.0116]),
            outcome("plain", clone: 1_790, call: .positive, counted: 1_700, seed: 5, interval: [0.0901, 0.0999]),
            outcome("plain", clone: 45, call: .negative, counted: 10, seed: 6),
            outcome("plain", clone: 45, call: .positiveBelowLLOQ, counted: 44, seed: 7),
            outcome("plain", clone: 60, call: .negative, counted: 20, seed: 8),
            outcome("hemodiluted", clone: 0, call: .negative, counted: 0, seed: 9),
            outcome("hemodiluted", clone: 179, call: .positive, counted: 179, seed: 10),
            outcome("dead-channel", clone: 0, call: .notEvaluable, counted: 0, seed: 11),
            outcome("dead-channel", clone: 179, call: nil, counted: 0, seed: 12),
        ]
        let report = ValidationMatrixReport(plan: plan, outcomes: outcomes)
        let fp = report.falsePositives
        #expect(fp.count == 1 && fp.of == 5)
        #expect(fp.interval == ClopperPearson(successes: 1, trials: 5))
        #expect(report.sensitivity(clone: 50...Int.max) == (detected: 2, of: 3))
        #expect(report.sensitivity(clone: 20...49) == (detected: 1, of: 2))
        let recovery = try! #require(report.recovery)
        // Ratios of positive calls with a clone: 180/179, 1700/1790, 44/45, 179/179.
        let ratios = [180.0 / 179, 1_700.0 / 1_790, 44.0 / 45, 1].sorted()
        #expect(recovery.median == ratios[1] && recovery.p5 == ratios[0] && recovery.p95 == ratios[3])
        // 1700 vs 1790: |−90| > 1.96·√1790 ≈ 82.9, the only one outside.
        #expect(recovery.withinPoisson == 3 && recovery.of == 4)
        #expect(report.intervalCoverage == (covered: 1, of: 2))
        #expect(report.outcomes.map(\.intervalCoversTruth) == [nil, nil, nil, true, false, nil, nil, nil, nil, nil, nil, nil])
        #expect(report.markdown.contains("| reported 95% interval of the MRD % holding the truth (positive calls with a clone) | 1 / 2 = 50.0% |"))
        #expect(report.tsv.split(separator: "\n")[4].hasSuffix("\t0.0086–0.0116\t\t") && report.tsv.split(separator: "\n")[1].hasSuffix("\t\t\t"))
        #expect(report.normalEventsCountedAsMRD == (events: 132, files: 2))
        #expect(report.wrongCalls.map(\.seed) == [2, 8, 9, 12])
        #expect(report.missesBelowLLOQ.map(\.seed) == [6])
        let plain = report.confusion.filter { $0.condition == "plain" }
        #expect(plain.map(\.truth) == ["MRD 0", "clone 1–49", "clone ≥ 50"])
        #expect(plain[0] == .init(condition: "plain", truth: "MRD 0", positive: 1, belowLLOQ: 0, negative: 2, notEvaluable: 0, errors: 0, wrong: 1))
        #expect(plain[2] == .init(condition: "plain", truth: "clone ≥ 50", positive: 2, belowLLOQ: 0, negative: 1, notEvaluable: 0, errors: 0, wrong: 1))
        let markdown = report.markdown
        #expect(markdown.contains("| false-positive rate (MRD-negative files called positive) | 1 / 5 = 20.0% (exact 95% CI 0.505–71.642%) |"))
        #expect(markdown.contains("| sensitivity, clones ≥ 50 events | 2 / 3 = 66.7% |"))
        #expect(markdown.contains("| normal events counted as MRD in MRD-negative files | 132 events in 2 of 5 files |"))
        #expect(markdown.contains("| plain | 0 | 2 | 0 | 120 | positive | false positive | `flowmrd synth F.fcs --seed 2` |"))
        #expect(markdown.contains("| dead-channel | 1e-04 | 12 | 179 | 0 | error: boom | error |"))
        #expect(report.tsv.split(separator: "\n").count == outcomes.count + 1)
    }

    @Test("a small matrix run end to end: files generated and removed, verdicts from the truth, same report twice")
    func endToEnd() throws {
        var plan = ValidationMatrixPlan()
        plan.conditions = ["plain", "post-CAR-T", "nan-channel"].map { MatrixCondition.named($0)! }
        plan.levels = [0, 1e-2]
        plan.seedsPerCell = 2
        plan.events = 20_000
        plan.lowLevelEvents = 20_000
        // A stand-in analysis that reads the truth: positive with a clone of ≥ 30, negative otherwise,
        // not evaluable on a fault; it also checks that each file exists while it is analysed.
        let analysis: MatrixAnalysis = { path, truth in
            guard FileManager.default.fileExists(atPath: path) else { throw SyntheticError.io(path: path, detail: "missing") }
            if !truth.specification.faults.isEmpty { return MatrixMeasurement(call: .notEvaluable, counted: 0, nucleated: truth.nucleatedCells) }
            let n = truth.aberrantPlasmaCells
            return MatrixMeasurement(call: n >= 30 ? .positive : .negative, counted: n, nucleated: truth.nucleatedCells)
        }
        let a = try ValidationMatrix(plan: plan).run(directory: directory.url.path, analysis: analysis)
        let b = try ValidationMatrix(plan: plan).run(directory: directory.url.path, analysis: analysis)
        #expect(a.outcomes == b.outcomes && a.markdown == b.markdown)
        #expect(a.outcomes.count == 12)
        #expect(a.wrongCalls.isEmpty, "\(a.wrongCalls)")
        #expect(a.falsePositives.count == 0 && a.falsePositives.of == 6)
        #expect(a.outcomes.filter { $0.level == 1e-2 }.allSatisfy { $0.cloneEvents > 100 })
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
        // A negative everywhere: every clone is missed, the NaN files become negatives on an inadequate sample.
        let alwaysNegative: MatrixAnalysis = { _, truth in MatrixMeasurement(call: .negative, counted: 0, nucleated: truth.nucleatedCells) }
        let c = try ValidationMatrix(plan: plan).run(directory: directory.url.path, analysis: alwaysNegative)
        #expect(c.outcomes.filter { $0.verdict == .missedClone }.count == 4)
        #expect(c.outcomes.filter { $0.verdict == .negativeOnInadequate }.count == 4)
        #expect(c.sensitivity(clone: 50...Int.max) == (detected: 0, of: 4))
    }
}

/// A reduced matrix through the real MRD engine, on small files with a template whose negative is
/// reachable at 20,000 nucleated cells: every condition, MRD 0 and 10⁻², four seeds (152 files,
/// the full matrix's seeds of those rows).
@Suite("Reduced validation matrix through the MRD engine")
struct ReducedMatrixTests {
    let directory = TemporaryDirectory()

    @Test("no false positive on any MRD-negative file; no clone of ≥ 50 events negative, and positive unless it is a small-margin clone sent to review as monotypic; every faulty file not evaluable; counts near truth")
    func reducedMatrix() throws {
        let engine = MRDAnalyzer(template: try GatingTemplate(yaml: try SmallSampleTemplate.text(), path: SmallSampleTemplate.path), workers: 2)
        var plan = ValidationMatrixPlan()
        plan.levels = [0, 1e-2]
        plan.seedsPerCell = 4
        plan.events = 60_000
        plan.lowLevelEvents = 60_000
        let report = try ValidationMatrix(plan: plan).run(directory: directory.url.path) { path, truth in try MatrixMeasurement(engine: engine, path: path, truth: truth) }
        #expect(report.outcomes.count == 152)
        #expect(report.falsePositives.count == 0, "\(report.outcomes.filter { $0.verdict == .falsePositive }.map(\.synthArguments))")
        #expect(report.normalEventsCountedAsMRD.events == 0)
        for outcome in report.outcomes where MatrixCondition.named(outcome.condition)?.expectation == .faulty {
            #expect(outcome.measurement.call == .notEvaluable, "\(outcome.condition): \(String(describing: outcome.measurement.call))")
        }
        // Where a clone is called, it is counted right.
        for o in report.outcomes where o.measurement.call == .positive {
            #expect(abs(Double(o.measurement.counted - o.cloneEvents)) <= 1.96 * Double(o.cloneEvents).squareRoot() + 0.05 * Double(o.cloneEvents),
                    "\(o.condition): \(o.measurement.counted) vs \(o.cloneEvents)")
        }
        // The clone's events in the counted clusters, from the labels written beside each file: a 10⁻² clone lies in them.
        for o in report.outcomes where o.measurement.call == .positive {
            let inCounted = try #require(o.measurement.cloneInCounted, "\(o.condition): no labels read")
            #expect(inCounted <= o.cloneEvents && Double(inCounted) >= 0.8 * Double(o.cloneEvents), "\(o.condition): \(inCounted) of \(o.cloneEvents)")
        }
        #expect(report.bandMisses != nil)
        // No clone of ≥ 50 events is called negative, and each is positive (faulty files excepted: they must be
        // not evaluable), but for the one state the template sends to review instead: a small-margin clone (0.3–0.5
        // decades off normal, about the phenotype margin) whose restricted cells show no aberrancy is "monotypic plasma
        // cells — review", not evaluable, as 3 of the full matrix's 4 such 10⁻² clones are (docs/validation.md).
        for o in report.outcomes where o.cloneEvents >= 50 && MatrixCondition.named(o.condition)?.expectation != .faulty {
            let review = o.condition == "small-margin" && o.measurement.call == .notEvaluable
                && o.measurement.reasons.contains { $0.hasPrefix("monotypic plasma cells") }
            #expect(o.measurement.call == .positive || review, "\(o.condition): \(String(describing: o.measurement.call)), \(o.measurement.counted) of \(o.cloneEvents)")
        }
        #expect(report.outcomes.filter { $0.cloneEvents >= 50 && $0.measurement.call == .negative }.isEmpty)
    }
}

import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// The monotypic route's second half: all plasma cells' κ:λ against the template's normal range
/// (`light_chains.normal_range`), its test, its count, its row of the decision table, and whole
/// analyses whose light chains are known.
@Suite("All plasma cells' κ:λ against the normal range")
struct CompartmentLightChainTests {
    let directory = TemporaryDirectory()

    @Test("inside the range: nothing outside, p 1, no count")
    func inside() {
        let c = PlasmaCellLightChains(kappa: 1_200, lambda: 800, range: 0.5...4, alpha: 0.001)
        #expect(c.outside == nil && c.pValue == 1 && c.monotypicExcess == 0 && c.ratio == 1.5 && c.normalRange == [0.5, 4])
        // Exactly at a bound is inside.
        #expect(PlasmaCellLightChains(kappa: 400, lambda: 100, range: 0.5...4, alpha: 0.001).outside == nil)
        #expect(PlasmaCellLightChains(kappa: 100, lambda: 200, range: 0.5...4, alpha: 0.001).outside == nil)
    }

    @Test("beyond the upper bound: κ, the exact tail against high/(1 + high), the excess κ − λ·high")
    func kappaSide() {
        let c = PlasmaCellLightChains(kappa: 1_000, lambda: 150, range: 0.5...4, alpha: 0.001)
        let p = ClonalityTests.upperTail(1_000, 1_150, 0.8)
        #expect(c.outside == "kappa")
        #expect(abs(c.pValue - p) <= 1e-9 * max(p, 1e-300), "\(c.pValue) against \(p)")
        #expect(c.monotypicExcess == 400)   // 1000 − 150 · 4
        #expect(c.ratio == round6(1_000.0 / 150))
    }

    @Test("below the lower bound: λ, the tail against 1/(1 + low), the excess λ − κ/low")
    func lambdaSide() {
        let c = PlasmaCellLightChains(kappa: 100, lambda: 400, range: 0.5...4, alpha: 0.001)
        let p = ClonalityTests.upperTail(400, 500, 2.0 / 3)
        #expect(c.outside == "lambda" && c.monotypicExcess == 200)   // 400 − 100 / 0.5
        #expect(abs(c.pValue - p) <= 1e-9 * p, "\(c.pValue) against \(p)")
        // No κ at all: the ratio is 0, still λ.
        let only = PlasmaCellLightChains(chains: [Int8](repeating: -1, count: 40) + [0, 0], range: 0.5...4, alpha: 0.001)
        #expect(only.kappa == 0 && only.lambda == 40 && only.ratio == 0 && only.outside == "lambda" && only.monotypicExcess == 40)
    }

    @Test("a skew the counts cannot carry is not called: 9 κ to 1 λ")
    func tooFewToTell() {
        let c = PlasmaCellLightChains(kappa: 9, lambda: 1, range: 0.5...4, alpha: 0.001)
        #expect(c.outside == nil && c.monotypicExcess == 0)
        #expect(abs(c.pValue - ClonalityTests.upperTail(9, 10, 0.8)) < 1e-12)
        // κ only: the ratio has no value.
        let k = PlasmaCellLightChains(chains: [1, 1, 0], range: 0.5...4, alpha: 0.001)
        #expect(k.kappa == 2 && k.lambda == 0 && k.ratio == nil && k.outside == nil)
    }

    @Test("the decision table: a compartment beyond its range blocks a negative, counts only when the template says, and never outranks a clone")
    func decision() {
        var e = MRDDecision.Evidence.earnedNegative
        e.compartmentExcess = 400
        e.compartmentSkew = "plasma cells' κ:λ 6.67:1"
        #expect(MRDDecision(e).call == .notEvaluable)
        #expect(MRDDecision(e).reasons == ["monotypic plasma cells: plasma cells' κ:λ 6.67:1 — review"])
        e.monotypicIsPositive = true
        #expect(MRDDecision(e).call == .positive && MRDDecision(e).text == "MRD positive (monotypic): plasma cells' κ:λ 6.67:1, counted as the template says")
        #expect(MRDDecision(e).counted == 400 && MRDDecision(e).countsMonotypic)
        e.compartmentExcess = 40
        #expect(MRDDecision(e).call == .positiveBelowLLOQ)
        // Below the LOD it neither counts nor blocks.
        e.compartmentExcess = 29
        #expect(MRDDecision(e).call == .negative)
        e.monotypicIsPositive = false
        #expect(MRDDecision(e).call == .negative)
        // A clone is the call whatever the compartment.
        e.compartmentExcess = 400
        e.clonalExcess = 60
        #expect(MRDDecision(e).call == .positive && MRDDecision(e).text.hasPrefix("MRD positive: a clonal excess of 60"))
        #expect(MRDDecision(e).counted == 60 && !MRDDecision(e).countsMonotypic)
    }

    func analyze(_ spec: MarrowSpecification, _ name: String, lightChains: String?) throws -> (MRDResult, MarrowTruth) {
        let path = directory.path(name + ".fcs")
        let truth = try MarrowGenerator(spec).write(fcsPath: path)
        var yaml = try SmallSampleTemplate.text()
        if let lightChains {
            let old = "light_chains: {kappa: Kappa, lambda: Lambda, margin: 0.1, restriction_ratio: 4, chainless_gate: cd138-positive}"
            #expect(yaml.contains(old))
            yaml = yaml.replacingOccurrences(of: old, with: lightChains)
        }
        let template = try GatingTemplate(yaml: yaml, path: SmallSampleTemplate.path)
        return (try MRDAnalyzer(template: template, workers: 2).analyze(path: path), truth)
    }

    @Test("a normal marrow at κ:λ 2: negative within 0.5–4; not evaluable, with the exact reason, when the lab's range ends at 1.5; positive (monotypic) and counted when the template counts monotypic cells")
    func wholeAnalysis() throws {
        let spec = MarrowSpecification(events: 80_000, seed: 11, normalPlasmaCellPercent: 3, kappaLambdaRatio: 2)
        let (plain, truth) = try analyze(spec, "kl2", lightChains: nil)
        #expect(truth.aberrantPlasmaCells == 0)
        #expect(plain.call == .negative, "\(plain.callText)")
        let all = try #require(plain.clonality?.plasmaCellKappaLambda)
        #expect(all.outside == nil && all.normalRange == [0.5, 4] && all.monotypicExcess == 0)
        #expect(all.kappa + all.lambda <= plain.plasmaCells.count && all.kappa + all.lambda > plain.plasmaCells.count * 9 / 10)
        #expect(abs(Double(all.kappa) / Double(all.lambda) - 2) < 0.3, "κ \(all.kappa), λ \(all.lambda)")

        let narrow = "light_chains: {kappa: Kappa, lambda: Lambda, margin: 0.1, restriction_ratio: 4, normal_ratio: 1.2, normal_range: [0.5, 1.5], chainless_gate: cd138-positive}"
        let (review, _) = try analyze(spec, "kl2", lightChains: narrow)
        let skewed = try #require(review.clonality?.plasmaCellKappaLambda)
        // The same events, judged against the lab's range.
        #expect(skewed.kappa == all.kappa && skewed.lambda == all.lambda && skewed.outside == "kappa")
        let excess = Int((Double(all.kappa) - 1.5 * Double(all.lambda)).rounded(.down))
        #expect(skewed.monotypicExcess == excess && excess >= 30)
        #expect(review.call == .notEvaluable)
        let ratio = String(format: "%.2f:1", Double(all.kappa) / Double(all.lambda))
        #expect(review.notEvaluableReasons == ["monotypic plasma cells: plasma cells' κ:λ \(ratio) (κ \(all.kappa), λ \(all.lambda)) is outside the normal range 0.5–1.5 (p = \(formatP(skewed.pValue))): at least \(excess) monotypic κ plasma cells — review"])

        let counting = try String(contentsOfFile: SmallSampleTemplate.path, encoding: .utf8).contains("\n  monotypic:")
        try #require(!counting, "the bundled template is expected to leave monotypic cells for review")
        let (counted, _) = try analyze(spec, "kl2", lightChains: narrow + "\n  monotypic: positive")
        #expect(counted.call == .positive, "\(counted.callText)")
        #expect(counted.aberrantPC.count == excess && counted.clonality?.clonalExcess == 0)
        #expect(counted.mrdPercent == round6(100 * Double(excess) / Double(counted.nucleatedCells)))
        let exact = ClopperPearson(successes: excess, trials: counted.nucleatedCells)
        #expect(counted.mrdCI95Percent == [round6(100 * exact.lower), round6(100 * exact.upper)])
    }
}

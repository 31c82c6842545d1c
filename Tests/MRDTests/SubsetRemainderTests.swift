import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// The excess a restricted subset leaves in the cluster it was found in: its value against the
/// formula written out, the interval it extends, and a matrix clone whose box held a fifth of it.
@Suite("Subset remainder")
struct SubsetRemainderTests {
    let directory = TemporaryDirectory()

    @Test("the remainder against the formula written out, in both directions; the interval's upper end only when it stands out")
    func formula() {
        // 404 κ and 332 λ left beside a λ box, r₀ 1.875 with log-variance 0.00325.
        let r = SubsetRemainder(kappa: 404, lambda: 332, referenceRatio: 1.875, towardsKappa: false, ratioVariance: 0.00325)
        let share = 404 / 1.875
        #expect(abs(r.excess - (332 - share)) < 1e-9)
        #expect(abs(r.sd - (332 + 404 / (1.875 * 1.875) + share * share * 0.00325).squareRoot()) < 1e-9)
        #expect(r.standsOut)
        let box = ClonalityTest.Outcome(kappa: 14, lambda: 44, referenceRatio: 1.875, direction: "lambda", pValue: 1e-6, oddsRatio: 5.9,
                                        restricted: true, excess: 37, excessLow: 22.4, excessHigh: 50.7)
        let extended = r.extending(box)
        #expect(abs(extended.excessHigh - (50.7 + r.excess + 1.96 * r.sd)) < 1e-9)
        #expect(extended.excess == 37 && extended.excessLow == 22.4 && extended.kappa == 14 && extended.direction == "lambda")
        // κ: 1,200 κ and 600 λ at r₀ 1.9 leave 60 κ, about one SD: not standing out, the box as it was.
        let k = SubsetRemainder(kappa: 1_200, lambda: 600, referenceRatio: 1.9, towardsKappa: true, ratioVariance: 0.001)
        let kShare = 600 * 1.9
        #expect(abs(k.excess - (1_200 - kShare)) < 1e-9)
        #expect(abs(k.sd - (1_200 + 1.9 * 1.9 * 600 + kShare * kShare * 0.001).squareRoot()) < 1e-9)
        #expect(!k.standsOut && k.extending(box) == box)
        // The same counts with no r₀ uncertainty: 60 against an SD of 46.5 still does not stand out;
        // a larger lean (1,300 κ) does.
        #expect(!SubsetRemainder(kappa: 1_200, lambda: 600, referenceRatio: 1.9, towardsKappa: true, ratioVariance: 0).standsOut)
        #expect(SubsetRemainder(kappa: 1_300, lambda: 600, referenceRatio: 1.9, towardsKappa: true, ratioVariance: 0).standsOut)
        // A lean toward the other chain is no remainder.
        #expect(!SubsetRemainder(kappa: 404, lambda: 332, referenceRatio: 1.875, towardsKappa: true, ratioVariance: 0).standsOut)
    }

    @Test("a subset whose parent still leans to its chain: the interval's upper end holds the remainder, and the report says the count is a lower bound")
    func remainderExtendsInterval() throws {
        // Seed 84201 of the validation matrix: a CD45−-only λ clone of 173 events, counted whole
        // (170) in a box whose CD45 rule is off for the sample (so no aberrancy slice), inside a
        // cluster whose other cells (κ 2,380, λ 1,214) lean λ against r₀ 2.30 from three small
        // normal subsets. Counts cannot tell that lean from a copy clone's rest: the interval says
        // what both allow.
        let spec = MarrowSpecification(events: 2_000_000, aberrantFraction: 1e-4, seed: 84_201, hemodilution: 0.169, lightChain: .lambda,
                                       aberrantPhenotype: try AberrantPhenotype("CD45-"))
        let (r, truth) = try ClonalityTests.analyze(spec, at: directory.path("lean-1e-4.fcs"))
        let t = Double(truth.aberrantPlasmaCells)
        #expect(r.call == .positiveBelowLLOQ || r.call == .positive, "\(r.callText)")
        let clonality = try #require(r.clonality)
        let ci = try #require(clonality.clonalExcessCI95)
        #expect(ci[0] <= t && t <= ci[1], "\(r.aberrantPC.count) counted, CI \(ci), for a clone of \(truth.aberrantPlasmaCells)")
        // The counted box and the parent it was found in, as reported.
        let subset = try #require(clonality.clusters.first { $0.role == .mrd && $0.subsetOf != nil })
        let parent = clonality.clusters[subset.subsetOf!]
        let note = try #require(r.warnings.first { $0.contains("the count is a lower bound") })
        #expect(note.contains("(κ \(parent.clonality.kappa), λ \(parent.clonality.lambda)) still hold a λ excess"), "\(note)")
        #expect(!r.warnings.contains { $0.hasPrefix("a restricted λ subset's count includes") }, "\(r.warnings)")
        // The upper end holds the box's count and the whole remainder's excess beside it (the
        // box's own upper end alone lies far below that).
        let remainder = SubsetRemainder(kappa: parent.clonality.kappa, lambda: parent.clonality.lambda,
                                        referenceRatio: clonality.referenceKappaLambda, towardsKappa: false, ratioVariance: 0)
        #expect(remainder.standsOut && subset.clonality.excessHigh > subset.clonality.excess + remainder.excess, "\(subset.clonality), remainder \(remainder)")
    }
}

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

    @Test("a clone that copies a normal subset's phenotype, found as a box of a fifth of it: the interval's upper end holds the rest of it, and the report says the count is a lower bound")
    func phenotypicCopyInterval() throws {
        // Seed 34200 of the validation matrix: a CD19−-only λ clone of 174 events beside 562 CD19−
        // normal plasma cells. The box counted 37 (22–51); the 736 cells left beside it hold a λ
        // excess of 117.
        let spec = MarrowSpecification(events: 2_000_000, aberrantFraction: 1e-4, seed: 34_200, hemodilution: 0.045, lightChain: .lambda,
                                       aberrantPhenotype: try AberrantPhenotype("CD19-"))
        let path = directory.path("copy-1e-4.fcs")
        let truth = try MarrowGenerator(spec).write(fcsPath: path)
        let r = try MRDAnalyzer(template: ClonalityTests.template, workers: 2).analyze(path: path)
        let t = Double(truth.aberrantPlasmaCells)
        #expect(r.call == .positiveBelowLLOQ || r.call == .positive, "\(r.callText)")
        let clonality = try #require(r.clonality)
        let ci = try #require(clonality.clonalExcessCI95)
        #expect(ci[0] <= t && t <= ci[1], "\(r.aberrantPC.count) counted, CI \(ci), for a clone of \(truth.aberrantPlasmaCells)")
        // The counted box and the parent it was found in, as reported.
        let subset = try #require(clonality.clusters.first { $0.role == .mrd && $0.subsetOf != nil })
        let parent = clonality.clusters[subset.subsetOf!]
        #expect(Double(r.aberrantPC.count) < t - 1.96 * t.squareRoot(), "the box alone counts \(r.aberrantPC.count): a lower bound")
        let note = try #require(r.warnings.first { $0.contains("the count is a lower bound") })
        #expect(note.contains("(κ \(parent.clonality.kappa), λ \(parent.clonality.lambda)) still hold a λ excess"), "\(note)")
        // Without the remainder the interval's upper end is the box's own, below the truth: at most
        // the reported upper end less the remainder's at no r₀ uncertainty (more uncertainty, a higher bound).
        let remainder = SubsetRemainder(kappa: parent.clonality.kappa, lambda: parent.clonality.lambda,
                                        referenceRatio: clonality.referenceKappaLambda, towardsKappa: false, ratioVariance: 0)
        #expect(remainder.standsOut && subset.clonality.excessHigh - remainder.high < t, "\(subset.clonality), remainder \(remainder)")
    }
}

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
        let ci = clonality.clonalExcessCI95
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

    @Test("a signature group's host against the other polyclonal clusters: r₀ and τ² without the host, the formula written out; nil when it does not stand out or the others are too few")
    func groupHostFormula() throws {
        // Seed 34302's clusters after the group's 99 rows were taken: the host (κ 11,617, λ 7,211)
        // and three others.
        let others = [(kappa: 21_757, lambda: 15_780), (kappa: 1_814, lambda: 1_281), (kappa: 495, lambda: 328)]
        let enough: (Int, Int) -> Bool = { $0 + $1 >= 100 && $0 > 0 && $1 > 0 }
        let r = try #require(SubsetRemainder.leftByGroup(host: (11_617, 7_211), others: others, withinClusters: 0, towardsKappa: true, enough: enough))
        let r0 = 24_066.0 / 17_389.0
        let u = ReferenceRatioUncertainty(clusters: others)
        #expect(abs(r.referenceRatio - r0) < 1e-12)
        #expect(abs(r.excess - (11_617 - 7_211 * r0)) < 1e-9)
        #expect(abs(r.sd - (11_617 + r0 * r0 * 7_211 + (7_211 * r0) * (7_211 * r0) * (u.sampling + u.between)).squareRoot()) < 1e-9)
        #expect(r.excess > 1_600 && r.excess < 1_660 && r.standsOut)
        // A within-cluster variance larger than τ² takes its place.
        let wide = try #require(SubsetRemainder.leftByGroup(host: (11_617, 7_211), others: others, withinClusters: 0.001, towardsKappa: true, enough: enough))
        #expect(abs(wide.sd - (11_617 + r0 * r0 * 7_211 + (7_211 * r0) * (7_211 * r0) * (u.sampling + max(u.between, 0.001))).squareRoot()) < 1e-9)
        // The host with the pooled ratio of the others (no lean), a lean to the other chain, or
        // others too few to judge: nil.
        #expect(SubsetRemainder.leftByGroup(host: (13_840, 10_000), others: others, withinClusters: 0, towardsKappa: true, enough: enough) == nil)
        #expect(SubsetRemainder.leftByGroup(host: (11_617, 7_211), others: others, withinClusters: 0, towardsKappa: false, enough: enough) == nil)
        #expect(SubsetRemainder.leftByGroup(host: (11_617, 7_211), others: [(40, 30)], withinClusters: 0, towardsKappa: true, enough: enough) == nil)
        // The clusters' own spread of κ:λ (τ²) is what a lean must exceed: the same host beside
        // others that disagree with one another (log κ:λ 0.0 to 0.69) does not stand out.
        #expect(SubsetRemainder.leftByGroup(host: (11_617, 7_211), others: [(5_000, 5_000), (8_000, 4_000), (6_000, 4_000)], withinClusters: 0,
                                            towardsKappa: true, enough: enough) == nil)
    }

    @Test("a CD19− clone that copies the CD19− normal subset, counted from its rule breakers: the host's lean raises the interval's upper end over the clone, and the report says the count is a lower bound")
    func signatureHostExtendsInterval() throws {
        // Seed 34302 of the validation matrix: a CD19−-only κ clone of 1,699 events inside 9,442
        // CD19− normal plasma cells. No cluster or box was restricted; the 99 cells breaking
        // CD19− CD38− were (κ 94, λ 5), counted 87, with an interval that held 67–107.
        let spec = MarrowSpecification(events: 2_000_000, aberrantFraction: 1e-3, seed: 34_302, hemodilution: 0.216, lightChain: .kappa,
                                       aberrantPhenotype: try AberrantPhenotype("CD19-"))
        let (r, truth) = try ClonalityTests.analyze(spec, at: directory.path("copy-1e-3.fcs"))
        #expect(r.call == .positive, "\(r.callText)")
        let clonality = try #require(r.clonality)
        let group = try #require(clonality.clusters.first { $0.role == .mrd })
        #expect(group.subsetOf == nil && r.warnings.contains { $0.contains("so they are judged as a cluster of their own") })
        #expect(r.aberrantPC.count == Int(group.clonality.excess.rounded()) && group.clonality.excess < 150)
        let note = try #require(r.warnings.first { $0.hasPrefix("the \(group.size) rule-breaking plasma cells counted") })
        #expect(note.contains("the count is a lower bound") && note.contains("still hold a κ excess"), "\(note)")
        // The host named in the note is a listed polyclonal cluster, its counts as reported.
        let host = try #require(clonality.clusters.first { note.contains("cluster of \($0.size) events whose other cells with a light chain (κ \($0.clonality.kappa), λ \($0.clonality.lambda))") })
        #expect(host.role == .normalSubset || host.role == .normal)
        // The interval holds the clone; its lower end is the group's own.
        let ci = clonality.clonalExcessCI95
        let t = Double(truth.aberrantPlasmaCells)
        #expect(ci[0] == round6(group.clonality.excessLow) && ci[0] < 100 && t <= ci[1], "CI \(ci), clone \(truth.aberrantPlasmaCells)")
        let mrd = try #require(r.mrdCI95Percent)
        #expect(100 * t / Double(r.nucleatedCells) <= mrd[1])
    }
}

import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// The normal cells a restricted density cluster holds beside its clone
/// (``RestrictedClusterRemainder``): exact counts on a table the test lays out, and a whole
/// analysis whose count's r₀ rested on a few hundred cells before.
@Suite("The normal remainder of a restricted cluster")
struct RestrictedClusterRemainderTests {
    let directory = TemporaryDirectory()

    /// Rows of two markers: `clone` κ cells at (0.1, 0.5) with `beside` normal cells there, and
    /// `normal` cells at (0.6, 0.5); interleaved so that both row halves hold each group.
    static func table(clone: Int, beside: (kappa: Int, lambda: Int), normal: (kappa: Int, lambda: Int)) -> (values: MarkerRows, chains: [Int8]) {
        var values: [Float] = [], chains: [Int8] = []
        for _ in 0..<clone { values += [0.1, 0.5]; chains.append(1) }
        for i in 0..<(beside.kappa + beside.lambda) { values += [0.1, 0.5]; chains.append(i < beside.kappa ? 1 : -1) }
        for i in 0..<(normal.kappa + normal.lambda) { values += [0.6, 0.5]; chains.append(i < normal.kappa ? 1 : -1) }
        // Five cells with no determined chain among the normal ones: outside the box, counted for neither chain.
        for _ in 0..<5 { values += [0.6, 0.5]; chains.append(0) }
        return (MarkerRows(values: values, dimensions: 2), chains)
    }

    static let searcher = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)

    static func remainder(_ table: (values: MarkerRows, chains: [Int8]), towardsKappa: Bool = true) -> RestrictedClusterRemainder? {
        RestrictedClusterRemainder(values: table.values, chains: table.chains, searchHalf: (0..<table.chains.count).map { $0 % 2 == 0 },
                                   towardsKappa: towardsKappa, searcher: searcher, referenceRatio: 2, alpha: 0.001, ratioVariance: 0.001, workers: 2)
    }

    @Test("the cells outside the clone's widened box, counted by chain; the clone and the normal cells of its phenotype stay in the box")
    func remainderCounts() throws {
        // The search half (even rows with a chain) holds 1,536 cells at 0.1 and 512 at 0.6: the
        // 24th of the search's 32 quantiles falls between them, so the box ends at 0.1. The
        // normal slab beyond it (688 κ, 336 λ against r₀ 2: excess 16, SD 50) does not widen it.
        let table = Self.table(clone: 3_000, beside: (48, 24), normal: (688, 336))
        let remainder = try #require(Self.remainder(table))
        #expect(remainder.kappa == 688 && remainder.lambda == 336 && remainder.boxed == 3_072)
        // At 2.05 it agrees with polyclonal cells at 2:1, not with cells at 1:1.
        #expect(remainder.agrees(with: (2_000, 1_000)))
        #expect(!remainder.agrees(with: (1_500, 1_500)))
        // Sought towards λ, the cluster has no restricted box: no remainder.
        #expect(Self.remainder(table, towardsKappa: false) == nil)
    }

    @Test("cells beside the box whose κ excess stands out are the clone's tail: the widening takes them, and nothing is left to join r₀")
    func tailJoinsTheBox() throws {
        // 2,200 κ / 872 λ at 0.6 against r₀ 2: excess 456, SD 93. The 16th quantile of 3,072
        // search cells falls between the groups.
        let remainder = try #require(Self.remainder(Self.table(clone: 3_000, beside: (48, 24), normal: (2_200, 872))))
        // The box then holds every cell, the five with no determined chain among them.
        #expect(remainder.kappa == 0 && remainder.lambda == 0 && remainder.boxed == 6_149)
        #expect(!remainder.agrees(with: (2_000, 1_000)))
    }

    @Test("no restricted box in a polyclonal cluster of one phenotype: no remainder")
    func noBox() {
        let table = Self.table(clone: 0, beside: (0, 0), normal: (2_000, 1_000))
        #expect(Self.remainder(table) == nil)
    }

    @Test("a count against the count's r₀ keeps the decision's chain: its excess as the formula gives it, or none when the counts lean the other way")
    func countedAsDecided() {
        let test = ClonalityTest(alpha: 0.001, restrictionRatio: 4)
        let decision = test.test(kappa: 300, lambda: 20, referenceRatio: 2)
        #expect(decision.restricted && decision.direction == "kappa")
        // 1,000 κ and 400 λ at r₀ 2.2: an excess of 1,000 − 400·2.2 = 120 κ.
        let counted = test.test(kappa: 1_000, lambda: 400, referenceRatio: 2.2).counted(as: decision)
        #expect(counted.restricted && counted.direction == "kappa" && counted.pValue == decision.pValue)
        #expect(abs(counted.excess - 120) < 1e-9 && counted.referenceRatio == 2.2)
        // 800 κ and 400 λ at 2.2 lean λ (an excess of 400 − 800/2.2 = 36 λ): no κ excess, and
        // the interval's upper end is 1.96 SD of κ − λ·r₀'s Poisson variance, 800 + 2.2²·400.
        let leaning = test.test(kappa: 800, lambda: 400, referenceRatio: 2.2)
        #expect(leaning.direction == "lambda" && leaning.excess > 0)
        let none = leaning.counted(as: decision)
        #expect(none.direction == "kappa" && none.restricted && none.excess == 0 && none.excessLow == 0)
        #expect(abs(none.excessHigh - 1.96 * (800 + 2.2 * 2.2 * 400).squareRoot()) < 1e-9)
        #expect(abs(none.oddsRatio! - (800.0 / 400) / 2.2) < 1e-9)
    }

    @Test("a CD19− λ clone of 10⁻² whose cluster took in most normal plasma cells: the count's r₀ takes them too, and the count lands in the Poisson band")
    func remainderJoinsTheCountsRatio() throws {
        // Seed 34403 of the validation matrix: the clone's cluster held 24,638 events, about 7,700
        // of them normal, and the polyclonal clusters 672. r₀ from those 672 was 2.45 against the
        // file's 2.14, and the count 17,218 for a clone of 16,893 (2.5 SD).
        let spec = MarrowSpecification(events: 2_000_000, aberrantFraction: 1e-2, seed: 34_403, hemodilution: 0.048, lightChain: .lambda,
                                       aberrantPhenotype: try AberrantPhenotype("CD19-"))
        let (r, truth) = try ClonalityTests.analyze(spec, at: directory.path("remainder-1e-2.fcs"))
        let t = Double(truth.aberrantPlasmaCells)
        #expect(r.call == .positive, "\(r.callText)")
        #expect(ClonalityTests.inPoissonBand(r.aberrantPC.count, of: truth), "\(r.aberrantPC.count) counted for a clone of \(truth.aberrantPlasmaCells)")
        let ci = try #require(r.clonality?.clonalExcessCI95)
        #expect(ci[0] <= t && t <= ci[1], "CI \(ci)")
        let note = try #require(r.warnings.first { $0.hasPrefix("r₀ for the count includes the") }, "\(r.warnings)")
        #expect(note.contains("of a λ-restricted cluster of") && note.contains("that lie outside its clone's box"), "\(note)")
        // The count's r₀ rests on the remainder and the polyclonal clusters: within 5% of the
        // κ:λ of the file's normal plasma cells, where the polyclonal clusters alone were 14% off.
        let (k, l) = (truth.normalKappa, truth.normalLambda)
        let r0 = try #require(r.clonality?.referenceKappaLambda)
        #expect(k > 0 && l > 0 && abs(r0 / (Double(k) / Double(l)) - 1) < 0.05, "r₀ \(r0) against the normal cells' \(k):\(l)")
    }
}

import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// The parent's cells that share a restricted subset's aberrancies (``AberrancySlice``): exact
/// counts on a table the test lays out, and a whole analysis whose clone left part of its tails
/// beside the box among normal cells of its own aberrant phenotype.
@Suite("The aberrancy slice of a subset's parent")
struct AberrancySliceTests {
    let directory = TemporaryDirectory()

    /// Rows of two markers (A, aberrant below 0.3; B, aberrant above 0.6) with their chains:
    /// `aberrant` cells at (0.1, 0.8), `normal` cells at (0.5, 0.5).
    static func table(aberrant: [(kappa: Int, lambda: Int)], normal: (kappa: Int, lambda: Int)) -> (values: [Float], chains: [Int8]) {
        var values: [Float] = [], chains: [Int8] = []
        for group in aberrant {
            for i in 0..<(group.kappa + group.lambda) {
                values += [0.1, 0.8]
                chains.append(i < group.kappa ? 1 : -1)
            }
        }
        for i in 0..<(normal.kappa + normal.lambda) {
            values += [0.5, 0.5]
            chains.append(i < normal.kappa ? 1 : -1)
        }
        return (values, chains)
    }

    static let rules = [AberrancySlice.Rule(dimension: 0, above: false, threshold: 0.3),
                        AberrancySlice.Rule(dimension: 1, above: true, threshold: 0.6),
                        // A third rule the box's cells do not break: not in the signature.
                        AberrancySlice.Rule(dimension: 1, above: false, threshold: 0.2)]

    @Test("a clone's tail among normal cells of its phenotype joins; the normal cells alone do not; neither do cells breaking only some of the box's rules")
    func sliceCounts() {
        // 600 κ / 300 λ normal cells of the aberrant phenotype (r₀ 2), 170 κ of the clone's tail,
        // 3,000 κ / 1,500 λ normal cells of the usual phenotype. The box: 30 aberrant cells.
        var (values, chains) = Self.table(aberrant: [(600, 300), (170, 0)], normal: (3_000, 1_500))
        // Five aberrant cells whose chain is undetermined, and five of the usual phenotype: the
        // first join the slice's rows, counted for neither chain.
        for _ in 0..<5 { values += [0.1, 0.8]; chains.append(0) }
        for _ in 0..<5 { values += [0.5, 0.5]; chains.append(0) }
        let all = MarkerRows(values: values, dimensions: 2)
        let box = Array(0..<30)
        let candidates = Array(0..<chains.count)
        let slice = AberrancySlice(rules: Self.rules, box: box, parentValues: all, candidates: candidates, values: all, chains: chains,
                                   kappa: true, referenceRatio: 2, ratioVariance: 0.001)
        #expect(slice.signature == Array(Self.rules.prefix(2)))
        #expect(slice.rows == Array(0..<1_070) + Array(5_570..<5_575) && slice.wanted == 770 && slice.other == 300)
        // Excess 170 against SD √(770 + 2·600 + 600²·0.001) = 48.3: 3.5 SD.
        #expect(AberrancySlice.standsOut(wanted: 770, other: 300, towardsKappa: true, referenceRatio: 2, ratioVariance: 0.001, restWanted: 3_000, restOther: 1_500))
        // Without the tail: nothing joins (the counts are still reported).
        let (plainValues, plainChains) = Self.table(aberrant: [(600, 300)], normal: (3_000, 1_500))
        let plain = MarkerRows(values: plainValues, dimensions: 2)
        let none = AberrancySlice(rules: Self.rules, box: box, parentValues: plain, candidates: Array(0..<plainChains.count), values: plain,
                                  chains: plainChains, kappa: true, referenceRatio: 2, ratioVariance: 0.001)
        #expect(none.rows.isEmpty && none.wanted == 600 && none.other == 300)
        // Sought towards λ, the κ tail is no excess.
        let lambda = AberrancySlice(rules: Self.rules, box: box, parentValues: all, candidates: candidates, values: all, chains: chains,
                                    kappa: false, referenceRatio: 2, ratioVariance: 0.001)
        #expect(lambda.rows.isEmpty && lambda.wanted == 300 && lambda.other == 770)
        // Only the cells not yet counted are candidates: the tail counted already, nothing joins.
        let rest = AberrancySlice(rules: Self.rules, box: box, parentValues: all, candidates: Array(0..<900) + Array(1_070..<chains.count),
                                  values: all, chains: chains, kappa: true, referenceRatio: 2, ratioVariance: 0.001)
        #expect(rest.rows.isEmpty && rest.wanted == 600)
    }

    @Test("no signature, no slice: a box whose cells break no rule, or whose rules are switched off")
    func noSignature() {
        let (values, chains) = Self.table(aberrant: [(600, 300), (170, 0)], normal: (3_000, 1_500))
        let all = MarkerRows(values: values, dimensions: 2)
        // The box drawn among the usual phenotype's cells.
        let usual = AberrancySlice(rules: Self.rules, box: Array(1_070..<1_100), parentValues: all, candidates: Array(0..<chains.count),
                                   values: all, chains: chains, kappa: true, referenceRatio: 2, ratioVariance: 0.001)
        #expect(usual.signature.isEmpty && usual.rows.isEmpty)
        let off = AberrancySlice(rules: [], box: Array(0..<30), parentValues: all, candidates: Array(0..<chains.count),
                                 values: all, chains: chains, kappa: true, referenceRatio: 2, ratioVariance: 0.001)
        #expect(off.signature.isEmpty && off.rows.isEmpty && off.wanted == 0)
    }

    @Test("a normal subset whose own κ:λ differs from r₀, as the parent's other cells do, is no tail")
    func localRatioGuard() {
        // The whole parent at 2.4 against r₀ 2: the aberrant-phenotype cells stand out against
        // r₀ (excess 120 at about 2.7 SD) but not against the parent's other cells.
        #expect(AberrancySlice.standsOut(wanted: 720, other: 300, towardsKappa: true, referenceRatio: 2, ratioVariance: 0, restWanted: 0, restOther: 0))
        #expect(!AberrancySlice.standsOut(wanted: 720, other: 300, towardsKappa: true, referenceRatio: 2, ratioVariance: 0, restWanted: 3_600, restOther: 1_500))
        // Below 2 SD against r₀: never.
        #expect(!AberrancySlice.standsOut(wanted: 650, other: 300, towardsKappa: true, referenceRatio: 2, ratioVariance: 0, restWanted: 3_000, restOther: 1_500))
    }

    @Test("a CD19− CD56++ κ clone of 10⁻³ whose tails left the box on several markers: counted in the Poisson band")
    func cornerTailsCounted() throws {
        // Seed 24301 of the validation matrix: the box and its widening counted 1,572 of 1,742;
        // 169 clone events stayed in the cluster beside it among 956 normal CD19− CD56+ cells,
        // and the slice took them (1,723). Since the widening's nearer slabs (twenty-first
        // session) the widening takes most of them (1,672) and the slice no longer stands out.
        let spec = MarrowSpecification(events: 2_000_000, aberrantFraction: 1e-3, seed: 24_301, hemodilution: 0.025,
                                       aberrantPhenotype: try AberrantPhenotype("CD19-,CD56++,CD81dim,CD45-"),
                                       normalTraitShares: ["CD19-": 0.322, "CD27dim": 0.163, "CD45dim": 0.487, "CD56+": 0.317, "CD81dim": 0.125])
        let (r, truth) = try ClonalityTests.analyze(spec, at: directory.path("corner-1e-3.fcs"))
        #expect(r.call == .positive, "\(r.callText)")
        #expect(ClonalityTests.inPoissonBand(r.aberrantPC.count, of: truth), "\(r.aberrantPC.count) counted for a clone of \(truth.aberrantPlasmaCells)")
    }

    @Test("a CD56++ CD38-dim κ clone of 10⁻³ whose tails stay beside its box in the CD56+ CD38− corner: the slice counts them and is described")
    func sliceDescribed() throws {
        // Seed 104301 of the validation matrix: 26 cells of the box's cluster that break both
        // rules join the count (1,677 of 1,715).
        let spec = MarrowSpecification(events: 2_000_000, aberrantFraction: 1e-3, seed: 104_301, hemodilution: 0.06,
                                       aberrantPhenotype: try AberrantPhenotype("CD56++,CD38dim"))
        let (r, truth) = try ClonalityTests.analyze(spec, at: directory.path("slice-1e-3.fcs"))
        #expect(r.call == .positive, "\(r.callText)")
        #expect(ClonalityTests.inPoissonBand(r.aberrantPC.count, of: truth), "\(r.aberrantPC.count) counted for a clone of \(truth.aberrantPlasmaCells)")
        #expect(r.warnings.contains { $0.hasPrefix("a restricted κ subset's count includes 26 further cells") && $0.contains("(CD56+ CD38−)") }, "\(r.warnings)")
    }

    @Test("a CD19−-only λ clone that copies the normal CD19− plasma cells, found as a box of a fifth of it: the rest of the CD19− cluster's excess is counted, in the Poisson band")
    func phenotypicCopyCounted() throws {
        // Seed 34200 of the validation matrix: 174 clone events beside 562 CD19− normal plasma
        // cells. The box counted 37 (22–51); the 736 cells left beside it, all CD19−, held a λ
        // excess of 117 (5.5 SD), which only raised the interval's upper end before.
        let spec = MarrowSpecification(events: 2_000_000, aberrantFraction: 1e-4, seed: 34_200, hemodilution: 0.045, lightChain: .lambda,
                                       aberrantPhenotype: try AberrantPhenotype("CD19-"))
        let (r, truth) = try ClonalityTests.analyze(spec, at: directory.path("copy-1e-4.fcs"))
        let t = Double(truth.aberrantPlasmaCells)
        #expect(r.call == .positiveBelowLLOQ || r.call == .positive, "\(r.callText)")
        #expect(ClonalityTests.inPoissonBand(r.aberrantPC.count, of: truth), "\(r.aberrantPC.count) counted for a clone of \(truth.aberrantPlasmaCells)")
        let ci = try #require(r.clonality?.clonalExcessCI95)
        #expect(ci[0] <= t && t <= ci[1], "CI \(ci)")
        #expect(r.warnings.contains { $0.hasPrefix("a restricted λ subset's count includes") && $0.contains("(CD19−)") }, "\(r.warnings)")
        // Nothing is left beside the box and its slice: no remainder.
        #expect(!r.warnings.contains { $0.contains("the count is a lower bound") }, "\(r.warnings)")
    }
}

import Foundation
import Testing
@testable import MRD

/// Light-chain spillover spreading: measured where it is (one chain wider on both sides), not
/// where a clone is (one side only), and kept out of the restricted-subset search, which would
/// otherwise call the wider chain's tails a clone.
@Suite("Light-chain spillover spreading")
struct ChainSpreadTests {
    /// A deterministic normal generator: Box–Muller on ``RestrictedSubsetTests/Mix``'s uniforms.
    struct Normal {
        var mix: RestrictedSubsetTests.Mix
        init(state: UInt64) { mix = RestrictedSubsetTests.Mix(state: state) }
        /// In (0, 1): never 0, whose logarithm Box–Muller would take.
        mutating func uniform() -> Double { mix.next() + 0x1p-54 }
        mutating func next(_ mean: Double, _ sd: Double) -> Float {
            Float(mean + sd * (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()))
        }
    }

    /// A polyclonal cluster in 3 dimensions (κ share 0.6): every cell at (0.2, 0.6, 0.7) with SD
    /// 0.05, λ cells `lambdaSD` on dimension 0 (spillover spreading of the λ stain), plus `clone`
    /// κ cells at 0.4 on dimension 1 (SD 0.03).
    static func cluster(cells: Int, lambdaSD: Double, clone: Int = 0, seed: UInt64) -> (values: [Float], chains: [Int8], half: [Bool]) {
        var rng = Normal(state: seed)
        var values: [Float] = [], chains: [Int8] = []
        for _ in 0..<cells {
            let kappa = rng.uniform() < 0.6
            values += [rng.next(0.2, kappa ? 0.05 : lambdaSD), rng.next(0.6, 0.05), rng.next(0.7, 0.05)]
            chains.append(kappa ? 1 : -1)
        }
        for _ in 0..<clone {
            values += [rng.next(0.2, 0.05), rng.next(0.4, 0.03), rng.next(0.7, 0.05)]
            chains.append(1)
        }
        return (values, chains, (0..<chains.count).map { $0 & 1 == 0 })
    }

    @Test("a chain wider on both sides is spreading; equal chains are not")
    func symmetricWidening() {
        let c = Self.cluster(cells: 8_000, lambdaSD: 0.08, seed: 1)
        let spread = ChainSpread.measure(values: MarkerRows(values: c.values, dimensions: 3), chains: c.chains, measured: c.half)
        #expect(spread.wider == [-1, 0, 0])
        // λ's central interval holds κ's: about 0.2 ∓ 0.08 against 0.2 ∓ 0.05.
        let l = spread.lambdaRange[0]!, k = spread.kappaRange[0]!
        #expect(abs(l.low - 0.12) < 0.01 && abs(l.high - 0.28) < 0.01)
        #expect(abs(k.low - 0.15) < 0.01 && abs(k.high - 0.25) < 0.01)
        let equal = Self.cluster(cells: 8_000, lambdaSD: 0.05, seed: 2)
        #expect(ChainSpread.measure(values: MarkerRows(values: equal.values, dimensions: 3), chains: equal.chains, measured: equal.half).isNone)
    }

    @Test("a clone on one side of its chain is not spreading, however large")
    func cloneIsNotSpread() {
        // 2,000 κ clone cells below 4,800 normal κ cells on dimension 1: κ's low end moves out,
        // its high end in.
        let c = Self.cluster(cells: 8_000, lambdaSD: 0.05, clone: 2_000, seed: 3)
        let spread = ChainSpread.measure(values: MarkerRows(values: c.values, dimensions: 3), chains: c.chains, measured: c.half)
        #expect(spread.wider == [0, 0, 0])
        #expect(spread.kappaRange[1]!.low < spread.lambdaRange[1]!.low - 0.05)
        #expect(spread.kappaRange[1]!.high < spread.lambdaRange[1]!.high)
    }

    @Test("too few cells of a chain: nothing measured")
    func tooFew() {
        let c = Self.cluster(cells: 80, lambdaSD: 0.2, seed: 4)
        let spread = ChainSpread.measure(values: MarkerRows(values: c.values, dimensions: 3), chains: c.chains, measured: c.half)
        #expect(spread.isNone && spread.kappaRange.allSatisfy { $0 == nil })
    }

    @Test("the search calls the spread chain's tail a clone, unless the spread dimension is left uncut; a clone elsewhere is still found")
    func searchLeavesSpreadUncut() {
        let searcher = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)
        let alpha = 0.001 / 4
        // No clone: λ's tails on dimension 0 are all the search finds.
        let plain = Self.cluster(cells: 20_000, lambdaSD: 0.09, seed: 5)
        let values = MarkerRows(values: plain.values, dimensions: 3)
        var prepared = searcher.prepare(values: values, chains: plain.chains, searchHalf: plain.half)
        let greedy = searcher.box(prepared, kappa: false, referenceRatio: 1.5)
        #expect(greedy.map { $0.low[0] > -.infinity || $0.high[0] < .infinity } == true)
        let spread = ChainSpread.measure(values: values, chains: plain.chains, measured: plain.half)
        #expect(spread.wider == [-1, 0, 0])
        prepared.uncut = spread.wider.map { $0 != 0 }
        #expect(searcher.search(prepared, kappa: false, referenceRatio: 1.5, alpha: alpha) == nil)
        #expect(searcher.search(prepared, kappa: true, referenceRatio: 1.5, alpha: alpha) == nil)
        // A κ clone of 300 cells on dimension 1 beside the same spreading: found, cut on dimension 1 only.
        let withClone = Self.cluster(cells: 20_000, lambdaSD: 0.09, clone: 300, seed: 6)
        let cloneValues = MarkerRows(values: withClone.values, dimensions: 3)
        let cloneSpread = ChainSpread.measure(values: cloneValues, chains: withClone.chains, measured: withClone.half)
        #expect(cloneSpread.wider == [-1, 0, 0])
        var clonePrepared = searcher.prepare(values: cloneValues, chains: withClone.chains, searchHalf: withClone.half)
        clonePrepared.uncut = cloneSpread.wider.map { $0 != 0 }
        let clone = searcher.search(clonePrepared, kappa: true, referenceRatio: 1.5, alpha: alpha)
        #expect(clone != nil)
        if let clone {
            #expect(clone.low[0] == -.infinity && clone.high[0] == .infinity)
            #expect(clone.high[1] < 0.6)
            let cloneRows = Set(20_000..<20_300)
            let caught = clone.members.filter { cloneRows.contains($0) }.count
            #expect(caught >= 200, "clone cells in the box: \(caught) of 300")
        }
    }

    @Test("spreading that only a marker's negative mode shows is found among the cells below the marker's negative limit, and named with that limit; a clone at the negative level is not spreading")
    func negativeModeSpreading() {
        // One dimension, half the cells negative (0.25) and half positive (0.6), SD 0.03; λ
        // spreads to SD 0.05 in the negative mode only (the logicle hides it in the bright mode).
        var rng = Normal(state: 7)
        var values: [Float] = [], chains: [Int8] = []
        for _ in 0..<8_000 {
            let kappa = rng.uniform() < 0.6, negative = rng.uniform() < 0.5
            values.append(negative ? rng.next(0.25, kappa ? 0.03 : 0.05) : rng.next(0.6, 0.03))
            chains.append(kappa ? 1 : -1)
        }
        let half = (0..<chains.count).map { $0 & 1 == 0 }
        let rowsOf = MarkerRows(values: values, dimensions: 1)
        // The whole cluster's 84th percentiles lie in the bright mode, where the chains agree.
        #expect(ChainSpread.measure(values: rowsOf, chains: chains, measured: half).isNone)
        let spread = ChainSpread.measure(values: rowsOf, chains: chains, measured: half, negativeBelow: [0.45])
        #expect(spread.wider == [-1] && spread.negativeModeBelow == [0.45])
        #expect(abs(spread.lambdaRange[0]!.low - 0.20) < 0.01 && abs(spread.lambdaRange[0]!.high - 0.30) < 0.01)
        // A κ clone of 1,000 cells at the negative level, with the normal cells' spread, instead of spreading.
        var clone = Normal(state: 8)
        var cloneValues: [Float] = [], cloneChains: [Int8] = []
        for _ in 0..<8_000 {
            let kappa = clone.uniform() < 0.6, negative = clone.uniform() < 0.5
            cloneValues.append(negative ? clone.next(0.25, 0.03) : clone.next(0.6, 0.03))
            cloneChains.append(kappa ? 1 : -1)
        }
        for _ in 0..<1_000 {
            cloneValues.append(clone.next(0.25, 0.03))
            cloneChains.append(1)
        }
        let cloneHalf = (0..<cloneChains.count).map { $0 & 1 == 0 }
        #expect(ChainSpread.measure(values: MarkerRows(values: cloneValues, dimensions: 1), chains: cloneChains, measured: cloneHalf,
                                    negativeBelow: [0.45]).isNone)
    }

    @Test("a tail box whose mirror is as rich in its chain is spreading, found where ChainSpread's central intervals see nothing; a clone on one tail keeps its cut")
    func mirroredTail() throws {
        let searcher = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)
        let alpha = 0.001 / 4
        // Spreading with heavy tails, as photon noise on a stain whose brightness varies from
        // cell to cell gives: a fifth of the λ cells (the brightest) spread to SD 0.15 on
        // dimension 0, the rest not at all. The central intervals barely move; the tails are λ.
        func cluster(clone: Int, seed: UInt64) -> (values: [Float], chains: [Int8], half: [Bool]) {
            var rng = Normal(state: seed)
            var values: [Float] = [], chains: [Int8] = []
            for _ in 0..<6_000 {
                let kappa = rng.uniform() < 0.6, bright = rng.uniform() < 0.2
                values += [rng.next(0.2, !kappa && bright ? 0.15 : 0.05), rng.next(0.6, 0.05), rng.next(0.7, 0.05)]
                chains.append(kappa ? 1 : -1)
            }
            for _ in 0..<clone {
                values += [rng.next(0.6, 0.05), rng.next(0.6, 0.05), rng.next(0.7, 0.05)]
                chains.append(1)
            }
            return (values, chains, (0..<chains.count).map { $0 & 1 == 0 })
        }
        let weak = cluster(clone: 0, seed: 9)
        let values = MarkerRows(values: weak.values, dimensions: 3)
        #expect(ChainSpread.measure(values: values, chains: weak.chains, measured: weak.half).isNone)
        let prepared = searcher.prepare(values: values, chains: weak.chains, searchHalf: weak.half)
        // The greedy box is a tail of dimension 0, and its test half is restricted …
        let box = try #require(searcher.box(prepared, kappa: false, referenceRatio: 1.5))
        #expect((box.low[0] > -.infinity) != (box.high[0] < .infinity))
        var inBox = (kappa: 0, lambda: 0)
        for i in 0..<weak.chains.count where !weak.half[i] && (0..<3).allSatisfy({ values[i, $0] >= box.low[$0] && values[i, $0] <= box.high[$0] }) {
            if weak.chains[i] == 1 { inBox.kappa += 1 } else { inBox.lambda += 1 }
        }
        let test = ClonalityTest(alpha: alpha, restrictionRatio: 4).test(kappa: inBox.kappa, lambda: inBox.lambda, referenceRatio: 1.5, alpha: alpha)
        #expect(test.restricted && test.direction == "lambda", "test half κ \(inBox.kappa) λ \(inBox.lambda)")
        // … but its mirror at the other end is as λ-rich: spreading on dimension 0, and no box is left.
        #expect(searcher.mirroredSpread(prepared, low: box.low, high: box.high, kappa: false, testWanted: inBox.lambda,
                                        testEvents: inBox.kappa + inBox.lambda, p0: 1 / 2.5, alpha: alpha) == 0)
        #expect(searcher.search(prepared, kappa: false, referenceRatio: 1.5, alpha: alpha) == nil)
        // A κ clone of 300 cells at the high end of dimension 0 (0.6): its mirror holds
        // polyclonal cells, λ-rich if anything, so the box keeps its cut there and holds the clone.
        let withClone = cluster(clone: 300, seed: 10)
        let clonePrepared = searcher.prepare(values: MarkerRows(values: withClone.values, dimensions: 3), chains: withClone.chains, searchHalf: withClone.half)
        let clone = try #require(searcher.search(clonePrepared, kappa: true, referenceRatio: 1.5, alpha: alpha))
        #expect(clone.low[0] > 0.3 && clone.high[0] == .infinity)
        let caught = clone.members.filter { $0 >= 6_000 }.count
        #expect(caught > 150, "clone cells in the deciding box (before widening): \(caught) of 300")
    }

    @Test("a box in the middle of a spread marker: its widening leaves out the normal cells there, whose κ:λ the spreading moved off r₀")
    func wideningInSpreadMiddle() {
        // 30,000 polyclonal cells (κ share 0.6), λ wider on dimension 0; a κ clone of 200 at the
        // low end of dimension 1, in the middle of dimension 0 (the independent generator's seed 255).
        var rng = Normal(state: 41)
        var values: [Float] = [], chains: [Int8] = []
        for _ in 0..<30_000 {
            let kappa = rng.uniform() < 0.6
            values += [rng.next(0.2, kappa ? 0.05 : 0.08), rng.next(0.6, 0.05)]
            chains.append(kappa ? 1 : -1)
        }
        for _ in 0..<200 {
            values += [rng.next(0.2, 0.05), rng.next(0.35, 0.03)]
            chains.append(1)
        }
        let rows = MarkerRows(values: values, dimensions: 2)
        let normal = MarkerRows(values: Array(values[..<60_000]), dimensions: 2)
        let searcher = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)
        let eligible = [Bool](repeating: true, count: chains.count)
        let r0 = 1.5, sampling = 1.0 / 18_000 + 1.0 / 12_000
        // The box that decided: the middle of dimension 0, the low end of dimension 1.
        let low: [Float] = [0.12, -.infinity], high: [Float] = [0.28, 0.45]
        func excess(_ box: (low: [Float], high: [Float])) -> Double {
            var kappa = 0, lambda = 0
            for i in 0..<chains.count where (0..<2).allSatisfy({ rows[i, $0] >= box.low[$0] && rows[i, $0] <= box.high[$0] }) {
                if chains[i] == 1 { kappa += 1 } else { lambda += 1 }
            }
            return Double(kappa) - Double(lambda) * r0
        }
        // With r₀'s sampling variance only, the box takes in the middle's normal cells: κ-rich by the spreading alone.
        let plain = searcher.widen(low: low, high: high, values: rows, chains: chains, eligible: eligible, kappa: true,
                                   referenceRatio: r0, ratioVariance: sampling)
        #expect(plain.high[1] > 0.5 && excess(plain) > 400, "\(plain) excess \(excess(plain))")
        // With the normal cells' own heterogeneity along the markers, it keeps to the clone.
        let tau2 = ReferenceRatioUncertainty.alongMarkers(values: normal, chains: Array(chains[..<30_000]), workers: 2)
        let held = searcher.widen(low: low, high: high, values: rows, chains: chains, eligible: eligible, kappa: true,
                                  referenceRatio: r0, ratioVariance: sampling + tau2)
        #expect(held.high[1] < 0.5 && abs(excess(held) - 200) < 2 * 200.0.squareRoot(), "\(held) excess \(excess(held)), τ² \(tau2)")
    }

    @Test("the mirror check's two conditions: a mirror at the polyclonal share leaves the cut, however weak the box against it; a mirror as rich as the box marks the marker spread")
    func mirrorConditions() {
        // One dimension, 1,000 cells at 0.000–0.999, κ share 0.6 everywhere except where set;
        // the box keeps the top 100 (≥ 0.9), its mirror is the bottom 100.
        func prepared(mirrorKappa: Int) -> RestrictedSubsetSearch.Prepared {
            let values = (0..<1_000).map { Float($0) / 1_000 }
            let chains: [Int8] = (0..<1_000).map { i in i < 100 ? (i < mirrorKappa ? 1 : -1) : (i % 5 < 3 ? 1 : -1) }
            return RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)
                .prepare(values: values, dimensions: 1, chains: chains, searchHalf: (0..<1_000).map { $0 & 1 == 0 })
        }
        let searcher = RestrictedSubsetSearch(restrictionRatio: 4, minimumTestEvents: 15)
        let (low, high): ([Float], [Float]) = ([0.9], [.infinity])
        let alpha = 1e-4
        // A test half of 40 κ of 45 against a mirror of 60 of 100 (p₀ 0.6): Fisher's p is above α …
        #expect(FisherExactTest.upperTail(successes: 40, of: 45, against: 60, of: 100) >= alpha)
        // … but the mirror is not richer than p₀, so no spreading is there: the cut stays.
        #expect(searcher.mirroredSpread(prepared(mirrorKappa: 60), low: low, high: high, kappa: true, testWanted: 40, testEvents: 45,
                                        p0: 0.6, alpha: alpha) == nil)
        // A mirror of 75 κ of 100 is richer than p₀ (binomial p 0.001) and the box does not stand out against it: spread.
        #expect(searcher.mirroredSpread(prepared(mirrorKappa: 75), low: low, high: high, kappa: true, testWanted: 40, testEvents: 45,
                                        p0: 0.6, alpha: alpha) == 0)
        // The same mirror against a box of 50 κ of 50 (Fisher's p 1.2·10⁻⁵, below α): the box stands out, the cut stays.
        #expect(FisherExactTest.upperTail(successes: 50, of: 50, against: 75, of: 100) < alpha)
        #expect(searcher.mirroredSpread(prepared(mirrorKappa: 75), low: low, high: high, kappa: true, testWanted: 50, testEvents: 50,
                                        p0: 0.6, alpha: alpha) == nil)
    }
}

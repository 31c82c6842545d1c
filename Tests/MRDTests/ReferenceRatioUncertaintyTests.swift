import Foundation
import Testing
@testable import MRD

/// The reference ratio's uncertainty in the clonal excess's interval: the DerSimonian–Laird
/// between-cluster variance against a hand computation, and the widened interval.
@Suite("Reference ratio uncertainty")
struct ReferenceRatioUncertaintyTests {
    @Test("τ² and the sampling variance on four clusters, against the formula written out")
    func fourClusters() {
        let clusters = [(kappa: 8_519, lambda: 6_674), (kappa: 3_857, lambda: 2_489), (kappa: 2_522, lambda: 1_540), (kappa: 740, lambda: 466)]
        let u = ReferenceRatioUncertainty(clusters: clusters)
        // Written out independently: y = log κ/λ, w = κλ/(κ+λ).
        let y = clusters.map { log(Double($0.kappa) / Double($0.lambda)) }
        let w = clusters.map { Double($0.kappa) * Double($0.lambda) / Double($0.kappa + $0.lambda) }
        let sw = w[0] + w[1] + w[2] + w[3]
        let mean = (w[0] * y[0] + w[1] * y[1] + w[2] * y[2] + w[3] * y[3]) / sw
        var q = 0.0
        for i in 0..<4 { q += w[i] * (y[i] - mean) * (y[i] - mean) }
        let tau2 = (q - 3) / (sw - (w[0] * w[0] + w[1] * w[1] + w[2] * w[2] + w[3] * w[3]) / sw)
        #expect(abs(u.between - tau2) < 1e-12 && tau2 > 0.01)
        #expect(abs(u.sampling - (1.0 / 15_638 + 1.0 / 11_169)) < 1e-15)
    }

    @Test("clusters that agree within their counts' noise, one cluster, or none: no between-cluster variance")
    func noHeterogeneity() {
        #expect(ReferenceRatioUncertainty(clusters: [(1_600, 1_000), (800, 500), (1_601, 1_000)]).between == 0)
        let one = ReferenceRatioUncertainty(clusters: [(1_600, 1_000)])
        #expect(one.between == 0 && abs(one.sampling - (1.0 / 1_600 + 1.0 / 1_000)) < 1e-15)
        #expect(ReferenceRatioUncertainty(clusters: []).total == 0)
        // A cluster without one chain has no log ratio: left out.
        #expect(ReferenceRatioUncertainty(clusters: [(1_600, 1_000), (50, 0)]) == ReferenceRatioUncertainty(clusters: [(1_600, 1_000)]))
    }

    @Test("the widened interval: the Poisson variance plus the subtracted share times the log-ratio variance; nothing else moves")
    func widenedInterval() {
        let test = ClonalityTest(alpha: 0.001, restrictionRatio: 4)
        let lambdaClone = test.test(kappa: 4_800, lambda: 19_307, referenceRatio: 1.0568)
        let u = ReferenceRatioUncertainty(sampling: 0.0002, between: 0.0188)
        let w = u.widened(lambdaClone)
        let sd = (19_307 + 4_800 / (1.0568 * 1.0568) + pow(4_800 / 1.0568, 2) * 0.019).squareRoot()
        #expect(abs(w.excessLow - (lambdaClone.excess - 1.96 * sd)) < 1e-9 && abs(w.excessHigh - (lambdaClone.excess + 1.96 * sd)) < 1e-9)
        #expect(w.excess == lambdaClone.excess && w.pValue == lambdaClone.pValue && w.restricted && w.kappa == 4_800 && w.oddsRatio == lambdaClone.oddsRatio)
        #expect(w.excessHigh - w.excessLow > 4 * (lambdaClone.excessHigh - lambdaClone.excessLow))
        // κ direction: the subtracted share is λ·r₀.
        let kappaClone = test.test(kappa: 900, lambda: 100, referenceRatio: 1.5)
        let k = u.widened(kappaClone)
        let sdK = (900 + 1.5 * 1.5 * 100 + pow(100 * 1.5, 2) * 0.019).squareRoot()
        #expect(abs(k.excessHigh - (kappaClone.excess + 1.96 * sdK)) < 1e-9)
        // No uncertainty, or no excess: unchanged.
        #expect(ReferenceRatioUncertainty(sampling: 0, between: 0).widened(kappaClone) == kappaClone)
        let none = test.test(kappa: 600, lambda: 400, referenceRatio: 1.5)
        #expect(none.excess == 0 && u.widened(none) == none)
    }

    @Test("within the normal cells: the mirrored slabs' log-ratio products averaged over the markers, against the slabs counted by rank; none where the chains agree, nor for a clone's tail at one end")
    func alongMarkers() {
        // λ cells 3× wider than κ on dimension 0 (spillover spreading); dimensions 1 and 2 alike for both chains.
        let spread = ChainSpreadTests.cluster(cells: 32_000, lambdaSD: 0.15, seed: 31)
        let values = MarkerRows(values: spread.values, dimensions: 3)
        let tau2 = ReferenceRatioUncertainty.alongMarkers(values: values, chains: spread.chains, workers: 2)
        // Written out: the cells in order on dimension 0, in 16 chunks of equal rank; each chunk's
        // log κ:λ less their weighted mean, the products of chunk b and chunk 15 − b averaged;
        // then the mean over the three dimensions, clipped at 0.
        func written(_ chains: [Int8], _ values: MarkerRows, dimension k: Int) -> Double {
            let order = (0..<chains.count).sorted { values[$0, k] < values[$1, k] }
            let n = order.count
            var y: [Double] = [], w: [Double] = []
            for b in 0..<16 {
                let part = order[(n * b / 16)..<(n * (b + 1) / 16)]
                let kappa = Double(part.filter { chains[$0] == 1 }.count), lambda = Double(part.filter { chains[$0] == -1 }.count)
                y.append(log(kappa / lambda))
                w.append(kappa * lambda / (kappa + lambda))
            }
            let mean = zip(w, y).map { $0 * $1 }.reduce(0, +) / w.reduce(0, +)
            return (0..<8).map { (y[$0] - mean) * (y[15 - $0] - mean) }.reduce(0, +) / 8
        }
        let byDimension = (0..<3).map { written(spread.chains, values, dimension: $0) }
        // (Float values repeat now and then; a tie at a slab edge goes to the upper slab in the
        // engine and by row order here, which moves the figure in its sixth decimal at most.)
        #expect(abs(tau2 - max(0, byDimension.reduce(0, +) / 3)) < 1e-5, "\(tau2) \(byDimension)")
        // On dimension 0 the tails are λ and the middle κ, far beyond the counts' noise; the others hold none.
        #expect(byDimension[0] > 0.3 && abs(byDimension[1]) < 0.005 && abs(byDimension[2]) < 0.005, "\(byDimension)")
        // Both chains alike on every dimension: the slabs agree within their noise.
        let alike = ChainSpreadTests.cluster(cells: 32_000, lambdaSD: 0.05, seed: 32)
        #expect(ReferenceRatioUncertainty.alongMarkers(values: MarkerRows(values: alike.values, dimensions: 3), chains: alike.chains, workers: 2) < 0.005)
        // A κ clone's tail of 1,500 cells at the low end of dimension 1, among the same polyclonal
        // cells: one end's slabs are κ, their mirrors are not, and it is not taken for spreading
        // (the plain variance between the slabs is large).
        let tail = ChainSpreadTests.cluster(cells: 32_000, lambdaSD: 0.05, clone: 1_500, seed: 33)
        let tailValues = MarkerRows(values: tail.values, dimensions: 3)
        #expect(ReferenceRatioUncertainty.alongMarkers(values: tailValues, chains: tail.chains, workers: 2) < 0.005)
        let order = (0..<tail.chains.count).sorted { tailValues[$0, 1] < tailValues[$1, 1] }
        let slabs = (0..<16).map { b -> (kappa: Int, lambda: Int) in
            let part = order[(order.count * b / 16)..<(order.count * (b + 1) / 16)]
            return (part.filter { tail.chains[$0] == 1 }.count, part.filter { tail.chains[$0] == -1 }.count)
        }
        #expect(ReferenceRatioUncertainty(clusters: slabs).between > 0.05)
    }

    @Test("Thinned rows: every k-th row where the condition holds, k the smallest step within the limit")
    func thinnedRows() {
        // 50 even rows of 100: at most 20 → every 3rd (ceil(50/20)), 17 rows.
        let even = ThinnedRows.every(count: 100, limit: 20) { $0 % 2 == 0 }
        #expect(even == Array(stride(from: 0, to: 100, by: 6)))
        #expect(ThinnedRows.every(count: 100, limit: 50) { $0 % 2 == 0 } == Array(stride(from: 0, to: 100, by: 2)))
        #expect(ThinnedRows.every(count: 10, limit: 20) { $0 > 6 } == [7, 8, 9])
        #expect(ThinnedRows.every(count: 10, limit: 1) { _ in false } == [])
    }
}

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
}

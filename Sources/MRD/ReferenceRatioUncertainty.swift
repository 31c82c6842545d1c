import Foundation

/// How far the polyclonal κ:λ r₀ that a cluster's excess is counted against may be from the
/// ratio of the normal cells actually inside that cluster, on the log scale.
///
/// The clonal excess subtracts the polyclonal share of the other chain (κ − λ·r₀, or λ − κ/r₀),
/// so an error in r₀ moves the excess by the other chain's count times that error: little for a
/// clone that stands apart, much for one counted from a box inside a normal cluster. Two sources:
/// - **sampling**: r₀ is the pooled κ:λ of the polyclonal clusters, with variance of log r₀
///   1/κ + 1/λ;
/// - **between clusters**: normal plasma-cell clusters do not share one κ:λ (the light-chain
///   detectors spill into the phenotype channels, so where a cell lands depends a little on its
///   chain), so the ratio under the clone may differ from the pooled one. Its variance τ² is the
///   DerSimonian–Laird random-effects estimate over the polyclonal clusters' log κ:λ:
///   τ² = max(0, (Q − (k − 1)) / (Σw − Σw²/Σw)), with wᵢ = 1/(1/κᵢ + 1/λᵢ) and Q the weighted
///   sum of squares about the weighted mean. With fewer than two clusters τ² is 0 (it cannot be
///   estimated, and the interval says only what the counts do).
///
/// ``widened(_:)`` adds (other chain · ∂excess/∂log r₀)² · (sampling + τ²) to the excess's Poisson
/// variance, so the interval a lab reads holds the reference's uncertainty too.
///
/// - Complexity: O(k) for k clusters.
struct ReferenceRatioUncertainty: Sendable, Equatable {
    /// Variance of log r₀ from sampling.
    let sampling: Double
    /// Between-cluster variance of log κ:λ (τ²).
    let between: Double

    var total: Double { sampling + between }

    /// - Parameters:
    ///   - clusters: κ and λ of each polyclonal cluster the pooled ratio was taken from.
    init(clusters: [(kappa: Int, lambda: Int)]) {
        let usable = clusters.filter { $0.kappa > 0 && $0.lambda > 0 }
        let pk = usable.reduce(0) { $0 + $1.kappa }, pl = usable.reduce(0) { $0 + $1.lambda }
        sampling = pk > 0 && pl > 0 ? 1 / Double(pk) + 1 / Double(pl) : 0
        guard usable.count >= 2 else {
            between = 0
            return
        }
        let y = usable.map { log(Double($0.kappa) / Double($0.lambda)) }
        let w = usable.map { 1 / (1 / Double($0.kappa) + 1 / Double($0.lambda)) }
        let sw = w.reduce(0, +), sw2 = w.reduce(0) { $0 + $1 * $1 }
        let mean = zip(w, y).reduce(0) { $0 + $1.0 * $1.1 } / sw
        let q = zip(w, y).reduce(0) { $0 + $1.0 * ($1.1 - mean) * ($1.1 - mean) }
        between = max(0, (q - Double(usable.count - 1)) / (sw - sw2 / sw))
    }

    /// No uncertainty: the template's ratio, used as given.
    static let none = ReferenceRatioUncertainty(sampling: 0, between: 0)

    init(sampling: Double, between: Double) {
        self.sampling = sampling
        self.between = between
    }

    /// The outcome with its excess interval widened by the reference's uncertainty; a cluster
    /// without excess is returned as it is.
    /// - Complexity: O(1).
    func widened(_ o: ClonalityTest.Outcome) -> ClonalityTest.Outcome {
        guard o.excess > 0, total > 0, o.referenceRatio > 0 else { return o }
        let r0 = o.referenceRatio
        let kappa = o.direction == "kappa"
        // The counts' Poisson variance plus the other chain's subtracted share times the log-ratio error.
        let sd = ClonalityTest.excessSD(kappa: o.kappa, lambda: o.lambda, referenceRatio: r0, towardsKappa: kappa, logRatioVariance: total)
        return ClonalityTest.Outcome(kappa: o.kappa, lambda: o.lambda, referenceRatio: r0, direction: o.direction, pValue: o.pValue,
                                     oddsRatio: o.oddsRatio, restricted: o.restricted, excess: o.excess,
                                     excessLow: max(0, o.excess - 1.96 * sd), excessHigh: o.excess + 1.96 * sd)
    }
}

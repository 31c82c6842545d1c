import Foundation

/// Light-chain restriction of one cluster of plasma cells, judged against the polyclonal κ:λ of
/// the sample's normal plasma cells (domain primer §1b: a clone carries one light chain; a
/// cluster with a polyclonal κ:λ is a normal subset, however unusual its phenotype).
///
/// With n = κ + λ events of determined chain in the cluster and p₀ = r₀ / (1 + r₀) the
/// polyclonal κ share, the test is the exact one-sided binomial tail in the direction of the
/// excess: P(X ≥ κ) = I_{p₀}(κ, n − κ + 1) for κ, P(X ≤ κ) = I_{1−p₀}(n − κ, κ + 1) for λ. A
/// cluster is restricted when that tail is below `alpha` *and* its odds against the polyclonal
/// ratio, (κ/λ)/r₀ or (λ/κ)·r₀, reach `restrictionRatio`. The clonal excess is the restricted
/// chain's events minus those the polyclonal share explains (κ − λ·r₀, or λ − κ/r₀), with a
/// normal-approximation 95% interval from the Poisson variance of both counts.
///
/// - Complexity: O(n) for the incomplete beta's continued fraction in the worst case; a few
///   hundred operations for typical clusters.
public struct ClonalityTest: Sendable, Equatable {
    public let alpha: Double
    public let restrictionRatio: Double

    public init(alpha: Double, restrictionRatio: Double) {
        self.alpha = alpha
        self.restrictionRatio = restrictionRatio
    }

    public struct Outcome: Sendable, Equatable, Codable {
        public let kappa: Int
        public let lambda: Int
        /// The polyclonal κ:λ the cluster was judged against.
        public let referenceRatio: Double
        /// The chain in excess ("kappa" or "lambda"), whether or not the excess is significant.
        public let direction: String
        /// One-sided exact binomial p-value in that direction.
        public let pValue: Double
        /// Odds of the excess chain against the polyclonal ratio (nil when infinite: no event of the other chain).
        public let oddsRatio: Double?
        public let restricted: Bool
        /// Restricted-chain events minus the polyclonal share expected among them (≥ 0).
        public let excess: Double
        public let excessLow: Double
        public let excessHigh: Double

        enum CodingKeys: String, CodingKey {
            case kappa, lambda, direction, restricted, excess
            case referenceRatio = "reference_kappa_lambda", pValue = "p_value", oddsRatio = "odds_ratio"
            case excessLow = "excess_low", excessHigh = "excess_high"
        }

        /// The same counts and statistics, not restricted and without excess: a cluster the
        /// caller does not judge as a whole (too small to test, or holding a restricted subset).
        /// - Complexity: O(1).
        var unrestricted: Outcome {
            Outcome(kappa: kappa, lambda: lambda, referenceRatio: referenceRatio, direction: direction, pValue: pValue,
                    oddsRatio: oddsRatio, restricted: false, excess: 0, excessLow: 0, excessHigh: 0)
        }

        /// These counts' excess and odds, restricted as `decision` judged (its direction and
        /// p-value): the count of a cluster, or of a subset whose test half decided, against the
        /// count's r₀, which may rest on more cells than the decision's. Counts that lean the
        /// other way against that r₀ have no excess of the decided chain (0, its interval up to
        /// 1.96 Poisson SDs), never the other chain's.
        /// - Complexity: O(1).
        func counted(as decision: Outcome) -> Outcome {
            guard direction != decision.direction else {
                return Outcome(kappa: kappa, lambda: lambda, referenceRatio: referenceRatio, direction: direction, pValue: decision.pValue,
                               oddsRatio: oddsRatio, restricted: true, excess: excess, excessLow: excessLow, excessHigh: excessHigh)
            }
            let sd = ClonalityTest.poissonVariance(kappa: kappa, lambda: lambda, referenceRatio: referenceRatio,
                                                   towardsKappa: decision.direction == "kappa").squareRoot()
            return Outcome(kappa: kappa, lambda: lambda, referenceRatio: referenceRatio, direction: decision.direction, pValue: decision.pValue,
                           oddsRatio: oddsRatio.map { 1 / $0 } ?? 0, restricted: true, excess: 0, excessLow: 0, excessHigh: 1.96 * sd)
        }
    }

    /// The test of one cluster. `alpha` may be lowered by the caller for multiple clusters (Bonferroni).
    public func test(kappa: Int, lambda: Int, referenceRatio r0: Double, alpha: Double? = nil) -> Outcome {
        let level = alpha ?? self.alpha
        let n = kappa + lambda
        let p0 = r0 / (1 + r0)
        guard n > 0, r0 > 0, r0.isFinite else {
            return Outcome(kappa: kappa, lambda: lambda, referenceRatio: r0, direction: "kappa", pValue: 1, oddsRatio: 1,
                           restricted: false, excess: 0, excessLow: 0, excessHigh: 0)
        }
        let towardsKappa = Double(kappa) >= p0 * Double(n)
        let p: Double
        let odds: Double?
        let excess: Double
        let variance: Double
        if towardsKappa {
            p = kappa == 0 ? 1 : regularizedBeta(p0, a: Double(kappa), b: Double(n - kappa + 1))
            odds = lambda == 0 ? nil : (Double(kappa) / Double(lambda)) / r0
            excess = Self.excess(kappa: kappa, lambda: lambda, referenceRatio: r0, towardsKappa: true)
            variance = Self.poissonVariance(kappa: kappa, lambda: lambda, referenceRatio: r0, towardsKappa: true)
        } else {
            p = lambda == 0 ? 1 : regularizedBeta(1 - p0, a: Double(lambda), b: Double(kappa + 1))
            odds = kappa == 0 ? nil : (Double(lambda) / Double(kappa)) * r0
            excess = Self.excess(kappa: kappa, lambda: lambda, referenceRatio: r0, towardsKappa: false)
            variance = Self.poissonVariance(kappa: kappa, lambda: lambda, referenceRatio: r0, towardsKappa: false)
        }
        let restricted = p < level && (odds ?? .infinity) >= restrictionRatio
        let e = max(0, excess), sd = variance.squareRoot()
        return Outcome(kappa: kappa, lambda: lambda, referenceRatio: r0, direction: towardsKappa ? "kappa" : "lambda", pValue: p,
                       oddsRatio: odds, restricted: restricted, excess: e, excessLow: max(0, e - 1.96 * sd), excessHigh: e + 1.96 * sd)
    }

    /// The clonal excess κ − λ·r₀ (towards κ) or λ − κ/r₀ (towards λ), negative when the counts lean the other way.
    /// - Complexity: O(1).
    static func excess(kappa: Int, lambda: Int, referenceRatio r0: Double, towardsKappa: Bool) -> Double {
        towardsKappa ? Double(kappa) - Double(lambda) * r0 : Double(lambda) - Double(kappa) / r0
    }

    /// The Poisson variance of the clonal excess κ − λ·r₀ (towards κ) or λ − κ/r₀ (towards λ),
    /// from both counts.
    /// - Complexity: O(1).
    static func poissonVariance(kappa: Int, lambda: Int, referenceRatio r0: Double, towardsKappa: Bool) -> Double {
        towardsKappa ? Double(kappa) + r0 * r0 * Double(lambda) : Double(lambda) + Double(kappa) / (r0 * r0)
    }

    /// The excess's standard deviation when r₀ itself is uncertain: the counts' Poisson variance
    /// plus the subtracted share (λ·r₀ or κ/r₀) squared times the variance of log r₀.
    /// - Complexity: O(1).
    static func excessSD(kappa: Int, lambda: Int, referenceRatio r0: Double, towardsKappa: Bool, logRatioVariance: Double) -> Double {
        let poisson = poissonVariance(kappa: kappa, lambda: lambda, referenceRatio: r0, towardsKappa: towardsKappa)
        let subtracted = towardsKappa ? Double(lambda) * r0 : Double(kappa) / r0
        return (poisson + subtracted * subtracted * logRatioVariance).squareRoot()
    }

    /// Whether two groups of polyclonal cells share one κ:λ: the difference of their log ratios
    /// lies within two standard deviations of both groups' sampling (1/κ + 1/λ each). Two
    /// standard deviations, as for a slab of the widening and a subset's remainder.
    /// - Complexity: O(1).
    static func ratiosAgree(_ a: (kappa: Int, lambda: Int), _ b: (kappa: Int, lambda: Int)) -> Bool {
        guard a.kappa > 0, a.lambda > 0, b.kappa > 0, b.lambda > 0 else { return false }
        let difference = log(Double(a.kappa) / Double(a.lambda)) - log(Double(b.kappa) / Double(b.lambda))
        let variance = 1 / Double(a.kappa) + 1 / Double(a.lambda) + 1 / Double(b.kappa) + 1 / Double(b.lambda)
        return difference * difference <= 4 * variance
    }
}

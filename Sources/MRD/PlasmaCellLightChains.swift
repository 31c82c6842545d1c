/// The κ:λ of all plasma cells together, against the template's normal range (issue 15's
/// monotypic route, second half): when one chain dominates the whole compartment beyond what
/// polyclonal marrow shows, the clusters' own test can be blind to it — the polyclonal ratio r₀
/// they are judged against is the sample's, and a clone spread over every cluster drags it —
/// so the compartment as a whole is tested against the range's bound.
///
/// With κ and λ the determined chains of every plasma cell (clustered or not) and the normal
/// range [low, high] (`light_chains.normal_range`, κ:λ of polyclonal plasma cells; default
/// 0.5–4, the common flow-cytometric criterion of ">4:1 or <1:2" for a clonal plasma-cell
/// population):
/// - κ:λ above `high`: the exact one-sided binomial test of κ against the share high/(1 + high);
/// - κ:λ below `low`: the same for λ against the share 1/(1 + low);
/// at the template's `alpha`. The count is the excess beyond the bound (κ − λ·high, or
/// λ − κ/low): the fewest monotypic plasma cells that explain the skew, a lower bound.
///
/// - Complexity: O(n) for n plasma cells' chains, then the test (``ClonalityTest``).
public struct PlasmaCellLightChains: Sendable, Codable, Equatable {
    public let kappa: Int
    public let lambda: Int
    /// κ:λ (nil when no λ event).
    @Nullable public var ratio: Double?
    public let normalRange: [Double]
    /// The chain beyond the normal range ("kappa" or "lambda"), when the test says so; else nil.
    @Nullable public var outside: String?
    /// The one-sided p-value against the bound crossed (1 inside the range).
    public let pValue: Double
    /// Plasma cells of the dominant chain beyond the bound (0 inside the range or when not significant).
    public let monotypicExcess: Int

    enum CodingKeys: String, CodingKey {
        case kappa, lambda, ratio, outside
        case normalRange = "normal_range", pValue = "p_value", monotypicExcess = "monotypic_excess"
    }

    /// - Parameters:
    ///   - chains: per plasma cell, 1 κ, −1 λ, 0 undetermined.
    ///   - range: the normal κ:λ range, low < high.
    ///   - alpha: the test's level.
    public init(chains: [Int8], range: ClosedRange<Double>, alpha: Double) {
        var k = 0, l = 0
        for c in chains { if c == 1 { k += 1 } else if c == -1 { l += 1 } }
        self.init(kappa: k, lambda: l, range: range, alpha: alpha)
    }

    public init(kappa: Int, lambda: Int, range: ClosedRange<Double>, alpha: Double) {
        self.kappa = kappa
        self.lambda = lambda
        self.normalRange = [range.lowerBound, range.upperBound]
        self.ratio = lambda > 0 ? round6(Double(kappa) / Double(lambda)) : nil
        // κ:λ above high ⇔ κ > λ·high; below low ⇔ κ < λ·low.
        let bound: Double? = Double(kappa) > Double(lambda) * range.upperBound ? range.upperBound
            : Double(kappa) < Double(lambda) * range.lowerBound ? range.lowerBound : nil
        guard let bound else {
            (outside, pValue, monotypicExcess) = (nil, 1, 0)
            return
        }
        // The clusters' test at odds ≥ 1 against the bound: only the binomial tail decides.
        let o = ClonalityTest(alpha: alpha, restrictionRatio: 1).test(kappa: kappa, lambda: lambda, referenceRatio: bound, alpha: alpha)
        pValue = o.pValue
        outside = o.restricted ? o.direction : nil
        monotypicExcess = o.restricted ? Int(o.excess.rounded(.down)) : 0
    }

    /// The normal range as the template writes it: "0.5–4".
    public var rangeText: String { "\(formatNumber(normalRange[0]))–\(formatNumber(normalRange[1]))" }

    /// The finding in words when the compartment lies beyond its range (nil inside it): what a
    /// not-evaluable reason or a monotypic positive states.
    public var finding: String? {
        guard let chain = outside else { return nil }
        let written = ratio.map { String(format: "%.2f:1", $0) } ?? "κ only"
        return "plasma cells' κ:λ \(written) (κ \(kappa), λ \(lambda)) is outside the normal range \(rangeText) (p = \(formatP(pValue))): "
            + "at least \(monotypicExcess) monotypic \(chain == "kappa" ? "κ" : "λ") plasma cells"
    }
}

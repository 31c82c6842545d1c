import Foundation

/// The clonal excess a restricted subset leaves behind in the cluster it was found in.
///
/// A subset is a box cut inside a cluster that looks polyclonal as a whole; its count is the
/// excess inside the box. When the clone has the cluster's own phenotype on every marker but one
/// chance region (a phenotypic copy of a normal subset), the box holds only part of it, and the
/// cells left in the cluster still lean toward the clone's chain. The box's count is then a lower
/// bound, and its interval, which holds only the box's own counting noise and r₀'s uncertainty,
/// can miss the clone by several times: a 174-cell λ clone inside 562 CD19− normal plasma
/// cells was counted 37 (22–51), while the 736 cells left beside the box still held a λ excess
/// of 117. Where those cells share the box's aberrancies they now join the count
/// (``AberrancySlice``, which took that clone's rest); the remainder is what is left after the
/// slice — a lean where the box's rule is switched off, or among cells of another phenotype.
///
/// The remainder is the parent cluster's excess after the subset's rows were taken out, in the
/// subset's direction: κ − λ·r₀ (or λ − κ/r₀), with the variance the widening uses (Poisson,
/// plus the subtracted share times r₀'s log-variance from the clusters that held no subset; not
/// the reported pooled variance, which includes this very cluster and so would hide its lean).
/// It **stands out** by the widening's own rule for a slab: the excess beyond two standard
/// deviations. It is never counted (the box is what is shown to be clonal); it raises the
/// interval's upper end to the box's upper end plus the remainder's (excess + 1.96 SD), and
/// the report says so.
///
/// - Complexity: O(1).
struct SubsetRemainder: Sendable, Equatable {
    /// The parent's events of each chain after the subset's rows were taken out.
    let kappa: Int
    let lambda: Int
    /// The subset's direction.
    let towardsKappa: Bool
    /// Events of the subset's chain beyond the polyclonal share (may be negative).
    let excess: Double
    /// Its standard deviation.
    let sd: Double
    /// The polyclonal κ:λ it was counted against.
    let referenceRatio: Double

    /// - Parameters:
    ///   - ratioVariance: the variance of log r₀ the widening used (sampling and heterogeneity of
    ///     the clusters that held no subset).
    init(kappa: Int, lambda: Int, referenceRatio r0: Double, towardsKappa: Bool, ratioVariance: Double) {
        precondition(r0 > 0 && ratioVariance >= 0)
        self.kappa = kappa
        self.lambda = lambda
        self.towardsKappa = towardsKappa
        referenceRatio = r0
        excess = ClonalityTest.excess(kappa: kappa, lambda: lambda, referenceRatio: r0, towardsKappa: towardsKappa)
        sd = ClonalityTest.excessSD(kappa: kappa, lambda: lambda, referenceRatio: r0, towardsKappa: towardsKappa, logRatioVariance: ratioVariance)
    }

    /// The excess lies more than two standard deviations above zero.
    var standsOut: Bool { excess - 2 * sd > 0 }

    /// The remainder's 95% interval.
    var low: Double { max(0, excess - 1.96 * sd) }
    var high: Double { excess + 1.96 * sd }

    /// The subset's outcome with the remainder's upper bound added to its interval's upper end
    /// (the count and the lower end unchanged); as it is when the remainder does not stand out.
    func extending(_ o: ClonalityTest.Outcome) -> ClonalityTest.Outcome {
        guard standsOut else { return o }
        return ClonalityTest.Outcome(kappa: o.kappa, lambda: o.lambda, referenceRatio: o.referenceRatio, direction: o.direction, pValue: o.pValue,
                                     oddsRatio: o.oddsRatio, restricted: o.restricted, excess: o.excess, excessLow: o.excessLow,
                                     excessHigh: o.excessHigh + high)
    }

    /// The report's warning for a remainder that stands out.
    func note(subsetEvents: Int, counted: Double) -> String {
        "a restricted subset of \(subsetEvents) events (counted \(Int(counted.rounded()))) was found inside a plasma-cell cluster whose "
            + "other events with a light chain \(heldExcess): the clone may extend beyond the box, \(Self.lowerBound)"
    }

    /// "(κ K, λ L) still hold a κ excess of E (95% CI a–b)": the remainder as both notes state it.
    private var heldExcess: String {
        "(κ \(kappa), λ \(lambda)) still hold a \(towardsKappa ? "κ" : "λ") excess of \(Int(excess.rounded())) "
            + String(format: "(95%% CI %.0f–%.0f)", low, high)
    }

    /// What both notes conclude.
    private static let lowerBound = "so the count is a lower bound and the interval's upper end includes that excess"
}

extension SubsetRemainder {
    /// What a restricted group of rule breakers (``AberrancySignatureSearch``) leaves in its host,
    /// the polyclonal cluster that gave most of its rows, when that host still stands out; nil
    /// otherwise, or when the `others` hold too few events of either chain (`enough`) to judge.
    ///
    /// The group is taken only when no cluster and no box was restricted, so r₀ and its variance
    /// came from every polyclonal cluster, the host included: a clone that copies a normal subset
    /// on every marker but the rules it breaks (seed 34302: a CD19− κ clone of 1,699 inside 9,442
    /// CD19− normal plasma cells; 99 of them broke CD19− CD38−, counted 87) pulls r₀ toward its
    /// chain and widens τ² with its own lean, and so hides the lean it left. The host is judged
    /// here against the pooled κ:λ and the DerSimonian–Laird τ² of the *other* polyclonal clusters
    /// (the larger of it and the within-cluster variance), as a subset's parent is against the
    /// clusters that held no subset. The count is not touched: like a box's, it is a lower bound,
    /// and the interval's upper end takes the remainder (``extending(_:)``).
    /// - Parameters:
    ///   - host: the host's κ and λ after the group's rows were taken out.
    ///   - others: κ and λ of each other polyclonal cluster judged on its chains.
    /// - Complexity: O(others).
    static func leftByGroup(host: (kappa: Int, lambda: Int), others: [(kappa: Int, lambda: Int)], withinClusters: Double,
                            towardsKappa: Bool, enough: (Int, Int) -> Bool) -> SubsetRemainder? {
        let pk = others.reduce(0) { $0 + $1.kappa }, pl = others.reduce(0) { $0 + $1.lambda }
        guard enough(pk, pl) else { return nil }
        let uncertainty = ReferenceRatioUncertainty(clusters: others)
        let remainder = SubsetRemainder(kappa: host.kappa, lambda: host.lambda, referenceRatio: Double(pk) / Double(pl), towardsKappa: towardsKappa,
                                        ratioVariance: uncertainty.sampling + max(uncertainty.between, withinClusters))
        return remainder.standsOut ? remainder : nil
    }

    /// The report's warning for a group's host that stands out.
    func groupNote(groupEvents: Int, counted: Double, hostEvents: Int) -> String {
        "the \(groupEvents) rule-breaking plasma cells counted (\(Int(counted.rounded()))) came mostly from a plasma-cell cluster of \(hostEvents) "
            + "events whose other cells with a light chain \(heldExcess)"
            + String(format: " against the κ:λ %.3g of the other polyclonal clusters", referenceRatio)
            + ": the clone may share that cluster's phenotype beyond the rules it breaks, \(Self.lowerBound)"
    }
}

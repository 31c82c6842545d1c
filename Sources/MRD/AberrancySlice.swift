import Foundation

/// The cells of a subset's parent cluster that share the subset's aberrancies, beside its
/// counted rows: where a clone's tails lie when they leave the box on several markers at once.
///
/// A box is cut on the markers where the clone separates from the normal cells around it, and
/// its widening adds slabs outside it on one side of one marker at a time. A clone whose tails
/// spread on several markers at once (a corner) leaves them in the cluster that held it, among
/// normal plasma cells of its own aberrant phenotype: in a synthetic 10⁻³ CD19− CD56++ κ clone,
/// 169 of 1,742 events stayed beside the box, among 956 normal CD19− CD56+ cells. Over the
/// whole parent (5,644 cells) their excess is about 1 SD and no remainder shows; among the
/// parent's cells that break the box's rules it is about 3.5 SD.
///
/// The slice is those cells: every eligible cell of the parent not counted, that breaks each
/// aberrancy rule most of the box's cells break (the rules as placed for the sample; a rule
/// switched off takes no part). It joins the count when its excess **stands out** by the
/// widening's rule for a slab: against r₀ beyond two standard deviations (Poisson and r₀'s
/// log-variance), and beyond two against the ratio of the parent's other uncounted cells (when
/// they hold both chains), so that a cluster whose normal κ:λ sits off r₀ as a whole is not
/// taken for a tail. The count is then the excess over the box, its widening and the slice
/// together. A clone that copies a normal subset's phenotype (seed 34200: a CD19−-only λ clone
/// of 174 events beside 562 CD19− normal cells, its box a fifth of it) has a parent that is all
/// slice; its rest, which only raised the interval's upper end (``SubsetRemainder``), is now
/// counted: 153 instead of 37.
///
/// - Complexity: O(box · rules) for the signature, O(rows · rules) for the slice.
struct AberrancySlice {
    /// One aberrancy rule as placed for the sample, on a search dimension.
    struct Rule: Equatable {
        let dimension: Int
        let above: Bool
        let threshold: Float
        @inline(__always)
        func isBroken(by v: Float) -> Bool { above ? v > threshold : v < threshold }
    }

    /// The rows of the slice (empty when it does not stand out; cells without a determined chain
    /// included) and its chains' counts.
    let rows: [Int]
    let wanted: Int
    let other: Int
    /// The rules the box's cells break (most of them), which the slice's cells all break.
    let signature: [Rule]

    /// - Parameters:
    ///   - box: the box's cells, as indices into `parentValues`.
    ///   - parentValues: the parent cluster's members' values on the search dimensions.
    ///   - candidates: the parent's rows not counted and eligible (indices into `values`).
    ///   - values: every plasma-cell row on the search dimensions.
    ///   - ratioVariance: the widening's variance of log r₀.
    init(rules: [Rule], box: [Int], parentValues: MarkerRows, candidates: [Int], values: MarkerRows, chains: [Int8],
         kappa: Bool, referenceRatio r0: Double, ratioVariance: Double) {
        let want: Int8 = kappa ? 1 : -1
        signature = rules.filter { rule in
            2 * box.reduce(0) { $0 + (rule.isBroken(by: parentValues[$1, rule.dimension]) ? 1 : 0) } > box.count
        }
        guard !signature.isEmpty else {
            (rows, wanted, other) = ([], 0, 0)
            return
        }
        var inSlice: [Int] = []
        var s = 0, f = 0, restWanted = 0, restOther = 0
        for row in candidates {
            let breaks = signature.allSatisfy { $0.isBroken(by: values[row, $0.dimension]) }
            // A cell without a determined chain joins with the others (as in the box) but counts for neither.
            if breaks { inSlice.append(row) }
            guard chains[row] != 0 else { continue }
            switch (breaks, chains[row] == want) {
            case (true, true): s += 1
            case (true, false): f += 1
            case (false, true): restWanted += 1
            case (false, false): restOther += 1
            }
        }
        let stands = Self.standsOut(wanted: s, other: f, towardsKappa: kappa, referenceRatio: r0, ratioVariance: ratioVariance,
                                    restWanted: restWanted, restOther: restOther)
        (rows, wanted, other) = stands ? (inSlice, s, f) : ([], s, f)
    }

    /// The slab rule of the widening: the excess of `wanted` over `other` beyond two standard
    /// deviations (``ClonalityTest/excessSD(kappa:lambda:referenceRatio:towardsKappa:logRatioVariance:)``)
    /// at r₀ with its log-variance, and beyond two at the κ:λ of the parent's other uncounted
    /// cells (when they hold both chains; their ratio taken as given).
    static func standsOut(wanted s: Int, other f: Int, towardsKappa: Bool, referenceRatio r0: Double, ratioVariance: Double,
                          restWanted: Int, restOther: Int) -> Bool {
        let (kappa, lambda) = towardsKappa ? (s, f) : (f, s)
        func beyondTwoSD(_ ratio: Double, _ logVariance: Double) -> Bool {
            let excess = ClonalityTest.excess(kappa: kappa, lambda: lambda, referenceRatio: ratio, towardsKappa: towardsKappa)
            return excess > 2 * ClonalityTest.excessSD(kappa: kappa, lambda: lambda, referenceRatio: ratio, towardsKappa: towardsKappa,
                                                       logRatioVariance: logVariance)
        }
        guard beyondTwoSD(r0, ratioVariance) else { return false }
        guard restWanted > 0, restOther > 0 else { return true }
        return beyondTwoSD(towardsKappa ? Double(restWanted) / Double(restOther) : Double(restOther) / Double(restWanted), 0)
    }
}

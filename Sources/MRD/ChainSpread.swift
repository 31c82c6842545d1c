import Foundation

/// Spillover spreading that follows a light chain, measured in one cluster of plasma cells: the
/// dimensions a search for a restricted box must not cut.
///
/// After compensation, a bright stain's photon noise widens every detector it spills into
/// (spillover spreading: Roederer, Cytometry A 2001; Nguyen et al., Cytometry A 2013). κ and λ
/// are the brightest stains on a plasma cell and each marks its own share of the cells, so the
/// chain whose detector spills more into a phenotype channel (PE-λ into PE-Cy5.5 on a BD
/// instrument) is wider there than the other chain. Both tails of that channel are then rich in
/// the wider chain for no clonal reason: a box cut to a tail is "restricted", and its median
/// departs from the normal cells'. The polyclonal null of ``RestrictedSubsetSearch`` (κ and λ
/// independent of the box) does not hold in such a channel, so the search does not cut it.
///
/// The measure: per dimension, each chain's 16th and 84th percentiles over the cluster's search
/// half (the median ∓ σ for a normal sample). A dimension is spread by a chain where its
/// central interval holds the other chain's on *both* sides, each end beyond the other's by
/// more than three standard errors (a percentile's is about 1.5 σ/√n there). Spreading is
/// noise, symmetric about each cell, so it moves both ends outward. A clone inside the cluster
/// moves only its own side's end outward, and pulls the other end inward (its chain's cells
/// there are fewer than 16%): a clone's dimension stays searchable. Two first versions took
/// clones for spreading and were not kept (docs/validation.md): one robust SD per chain, and
/// half-widths about each chain's own median (a clone moves the median, which widens the far
/// side too). Evening the chains out instead (noise of SD √(s²wide − s²narrow) on the narrower
/// chain) was not kept either: spreading is Gaussian in linear units, not after the logicle
/// transform, so the noised chain's tails then reached further than the spread one's, and the
/// search found those instead.
///
/// Only the wider chain's search leaves the marker uncut: the other chain is poorer in both
/// tails, so no box of it there reaches the restriction ratio, and a clone of it that departs on
/// that marker (a κ CD117+ clone beside λ spreading into CD117) is still found by its cut. A
/// clone of the narrower chain on one side moves that chain's end out on its side and can hide
/// the spreading there; when both chains' searches find a box, each is done again with the spread
/// measured without the other's box (``RestrictedSubsetSearch/searchWithoutOtherBox``).
///
/// A clone of the wider chain whose only departure lies on such a marker is still found when it
/// forms a density cluster of its own (tested whole); it is not looked for as a box inside a
/// polyclonal cluster on that marker, and the report says which markers were left uncut.
struct ChainSpread: Sendable, Equatable {
    /// Per dimension: 1 where κ is the wider chain, −1 where λ is, 0 where neither measurably is.
    let wider: [Int8]
    /// Per dimension, the κ and λ 16th and 84th percentiles (nil where a chain had too few cells).
    let kappaRange: [Interval?]
    let lambdaRange: [Interval?]

    /// A chain's central interval on one dimension.
    struct Interval: Sendable, Equatable {
        let low: Double
        let high: Double
    }

    /// The fewest cells of each chain a robust SD is taken over.
    static let minimumCells = 50

    /// No dimension is spread by a chain.
    var isNone: Bool { !wider.contains { $0 != 0 } }

    /// Per dimension, whether `kappa`'s (else λ's) search must leave it uncut: that chain is the wider.
    func uncut(kappa: Bool) -> [Bool] { wider.map { $0 == (kappa ? 1 : -1) } }

    /// Each dimension's wider chain from either measure (this one's where both name one).
    func merged(with other: ChainSpread) -> ChainSpread {
        ChainSpread(wider: zip(wider, other.wider).map { $0 != 0 ? $0 : $1 },
                    kappaRange: zip(kappaRange, other.kappaRange).enumerated().map { wider[$0] != 0 ? $1.0 : $1.1 },
                    lambdaRange: zip(lambdaRange, other.lambdaRange).enumerated().map { wider[$0] != 0 ? $1.0 : $1.1 })
    }

    /// The spread of the `measured` rows' chains (1 κ, −1 λ) in each dimension of `values`.
    /// - Complexity: O(n · dimensions) for the n measured rows (selection, not sorting).
    static func measure(values: MarkerRows, chains: [Int8], measured: [Bool]) -> ChainSpread {
        let d = values.dimensions
        var wider = [Int8](repeating: 0, count: d)
        var kappaRange = [Interval?](repeating: nil, count: d), lambdaRange = kappaRange
        var kappaRows: [Int] = [], lambdaRows: [Int] = []
        for i in 0..<values.count where measured[i] {
            if chains[i] == 1 { kappaRows.append(i) } else if chains[i] == -1 { lambdaRows.append(i) }
        }
        guard kappaRows.count >= minimumCells, lambdaRows.count >= minimumCells else {
            return ChainSpread(wider: wider, kappaRange: kappaRange, lambdaRange: lambdaRange)
        }
        let (nk, nl) = (Double(kappaRows.count), Double(lambdaRows.count))
        for k in 0..<d {
            guard let rk = centralInterval(kappaRows.map { Double(values[$0, k]) }),
                  let rl = centralInterval(lambdaRows.map { Double(values[$0, k]) }) else { continue }
            (kappaRange[k], lambdaRange[k]) = (rk, rl)
            // Three standard errors of the difference of two percentiles (σ: half the interval).
            let sk = (rk.high - rk.low) / 2, sl = (rl.high - rl.low) / 2
            let margin = 3 * 1.5 * (sk * sk / nk + sl * sl / nl).squareRoot()
            if rk.low < rl.low - margin && rk.high > rl.high + margin { wider[k] = 1 }
            if rl.low < rk.low - margin && rl.high > rk.high + margin { wider[k] = -1 }
        }
        return ChainSpread(wider: wider, kappaRange: kappaRange, lambdaRange: lambdaRange)
    }

    /// The finite `values`' 16th and 84th percentiles (nil when none is finite).
    /// - Complexity: O(n).
    static func centralInterval(_ values: [Double]) -> Interval? {
        let finite = values.filter(\.isFinite)
        guard let low = ThresholdFinder.quantile(finite, 0.16), let high = ThresholdFinder.quantile(finite, 0.84) else { return nil }
        return Interval(low: low, high: high)
    }
}

extension RestrictedSubsetSearch {
    /// One chain's search again when the other chain's box (`otherBox`, member indices) may have
    /// hidden this chain's spreading: the spread measured on the search half without that box's
    /// events. Nil when that leaves no further marker uncut for this chain (the first search stands).
    /// - Complexity: the measure's O(n · dimensions), and a search when one is due.
    func searchWithoutOtherBox(_ prepared: Prepared, kappa: Bool, otherBox: [Int], referenceRatio r0: Double,
                               alpha: Double) -> (prepared: Prepared, spread: ChainSpread, found: Found?)? {
        var measured = prepared.searchHalf
        for i in otherBox { measured[i] = false }
        let spread = ChainSpread.measure(values: prepared.values, chains: prepared.chains, measured: measured)
        let before = kappa ? prepared.uncutKappa : prepared.uncutLambda
        let uncut = spread.uncut(kappa: kappa).enumerated().map { $1 || (!before.isEmpty && before[$0]) }
        guard uncut != before, uncut.contains(true) else { return nil }
        var again = prepared
        if kappa { again.uncutKappa = uncut } else { again.uncutLambda = uncut }
        let mine = ChainSpread(wider: spread.wider.map { $0 == (kappa ? 1 : -1) ? $0 : 0 }, kappaRange: spread.kappaRange, lambdaRange: spread.lambdaRange)
        return (again, mine, search(again, kappa: kappa, referenceRatio: r0, alpha: alpha))
    }
}

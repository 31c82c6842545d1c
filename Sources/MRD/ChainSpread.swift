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
/// A clone whose only departure lies in such a dimension is still found when it forms a
/// density cluster of its own (tested whole); it is not looked for as a box inside a
/// polyclonal cluster on that dimension, and the report says which dimensions were left uncut.
struct ChainSpread: Sendable, Equatable {
    /// Per dimension: 1 where κ is the wider chain, −1 where λ is, 0 where neither measurably is.
    let wider: [Int8]
    /// Per dimension, the κ and λ 16th and 84th percentiles (nil where a chain had too few cells).
    let kappaRange: [Interval?]
    let lambdaRange: [Interval?]
    /// Per dimension, the negative-mode limit when only the cells below it showed the spreading.
    let negativeModeBelow: [Float?]

    /// A chain's central interval on one dimension.
    struct Interval: Sendable, Equatable {
        let low: Double
        let high: Double
    }

    /// The fewest cells of each chain whose percentiles are compared.
    static let minimumCells = 50

    /// No dimension is spread by a chain.
    var isNone: Bool { !wider.contains { $0 != 0 } }

    /// The spread of the `measured` rows' chains (1 κ, −1 λ) in each dimension of `values`,
    /// the dimensions on `workers` threads.
    /// - Complexity: O(n · dimensions) for the n measured rows (selection, not sorting).
    ///
    /// With `negativeBelow` (per dimension, the level below which a cell is negative for the
    /// marker, or nil), the cells below it are also measured on their own: on a marker that
    /// splits normal plasma cells into a negative and a positive mode (CD19), the logicle
    /// compresses the bright mode's spreading and keeps the negative mode's, so the whole
    /// cluster's interval can end in the bright mode on one side and show nothing.
    static func measure(values: MarkerRows, chains: [Int8], measured: [Bool], negativeBelow: [Float?] = [], workers: Int = 1) -> ChainSpread {
        let d = values.dimensions
        var kappaRows: [Int] = [], lambdaRows: [Int] = []
        for i in 0..<values.count where measured[i] {
            if chains[i] == 1 { kappaRows.append(i) } else if chains[i] == -1 { lambdaRows.append(i) }
        }
        guard kappaRows.count >= minimumCells, lambdaRows.count >= minimumCells else {
            return ChainSpread(wider: [Int8](repeating: 0, count: d), kappaRange: [Interval?](repeating: nil, count: d),
                               lambdaRange: [Interval?](repeating: nil, count: d), negativeModeBelow: [Float?](repeating: nil, count: d))
        }
        let (kappaList, lambdaList) = (kappaRows, lambdaRows)
        let perDimension = parallelMap(d, workers: workers) { k -> (Int8, Interval?, Interval?, Float?) in
            let (kappaValues, lambdaValues) = (kappaList.map { Double(values[$0, k]) }, lambdaList.map { Double(values[$0, k]) })
            let whole = compare(kappaValues, lambdaValues)
            guard whole.wider == 0, k < negativeBelow.count, let split = negativeBelow[k] else { return (whole.wider, whole.kappa, whole.lambda, nil) }
            let negative = compare(kappaValues.filter { $0 < Double(split) }, lambdaValues.filter { $0 < Double(split) })
            return negative.wider != 0 ? (negative.wider, negative.kappa, negative.lambda, split) : (whole.wider, whole.kappa, whole.lambda, nil)
        }
        return ChainSpread(wider: perDimension.map(\.0), kappaRange: perDimension.map(\.1), lambdaRange: perDimension.map(\.2),
                           negativeModeBelow: perDimension.map(\.3))
    }

    /// Whether one chain's central interval holds the other's on both sides, each end beyond by
    /// more than three standard errors of the difference of two percentiles (σ: half the
    /// interval); neither when a chain has fewer than ``minimumCells`` values.
    /// - Complexity: O(n).
    static func compare(_ kappa: [Double], _ lambda: [Double]) -> (wider: Int8, kappa: Interval?, lambda: Interval?) {
        guard kappa.count >= minimumCells, lambda.count >= minimumCells,
              let rk = centralInterval(kappa), let rl = centralInterval(lambda) else { return (0, nil, nil) }
        let (nk, nl) = (Double(kappa.count), Double(lambda.count))
        let sk = (rk.high - rk.low) / 2, sl = (rl.high - rl.low) / 2
        let margin = 3 * 1.5 * (sk * sk / nk + sl * sl / nl).squareRoot()
        if rk.low < rl.low - margin && rk.high > rl.high + margin { return (1, rk, rl) }
        if rl.low < rk.low - margin && rl.high > rk.high + margin { return (-1, rk, rl) }
        return (0, rk, rl)
    }

    /// The finite `values`' 16th and 84th percentiles (nil when none is finite).
    /// - Complexity: O(n).
    static func centralInterval(_ values: [Double]) -> Interval? {
        let finite = values.filter(\.isFinite)
        guard let low = ThresholdFinder.quantile(finite, 0.16), let high = ThresholdFinder.quantile(finite, 0.84) else { return nil }
        return Interval(low: low, high: high)
    }
}

extension ChainSpread {
    /// The report's description of a spread cluster of `clusterEvents` events (`markers`: the
    /// search's markers, in its dimensions' order).
    /// - Complexity: O(markers).
    func note(clusterEvents: Int, markers: [String]) -> String {
        let wider = markers.indices.filter { self.wider[$0] != 0 }.map { k in
            let lambdaWider = self.wider[k] == -1
            let (w, n) = lambdaWider ? (lambdaRange[k]!, kappaRange[k]!) : (kappaRange[k]!, lambdaRange[k]!)
            let mode = negativeModeBelow[k].map { String(format: " of the cells below %.4g", Double($0)) } ?? ""
            return "\(lambdaWider ? "λ" : "κ") on \(markers[k]) (16th–84th percentiles\(mode) " + String(format: "%.3f–%.3f against %.3f–%.3f", w.low, w.high, n.low, n.high) + ")"
        }
        return "light-chain spillover spreading in a plasma-cell cluster of \(clusterEvents) events, wider " + wider.joined(separator: ", ")
            + ": the search for a restricted subset did not cut " + (wider.count == 1 ? "that marker" : "those markers") + ", whose tails are rich in the wider chain for no clonal reason"
    }
}

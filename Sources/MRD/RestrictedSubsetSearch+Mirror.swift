import Foundation

extension RestrictedSubsetSearch {
    /// The first dimension on which a found box is a tail that spillover spreading explains: the
    /// box keeps the high (or low) end of the cluster there, and the same share of the cluster's
    /// other end — its mirror — is as rich in the box's chain as the box.
    ///
    /// Spreading is noise, symmetric about each cell, so a chain it widens is over-represented at
    /// *both* ends of the dimension; a clone that expresses more (or less) of the marker fills one
    /// end only, and the other end holds normal cells at the polyclonal share. ``ChainSpread``
    /// finds the widened dimensions from the whole cluster's central intervals; this check looks
    /// where a box was actually cut, so a spreading too weak for that measure, but enough for a
    /// greedy box to find in one tail, is caught too.
    ///
    /// Per dimension cut on one side only, among the events (both halves, with a chain) inside
    /// the box on every *other* dimension (and, for a low tail below the marker's negative
    /// limit, ``negativeBelow``, those below it): when the box keeps at most half of them, the mirror is
    /// as many events from the other end (by rank, so the logicle's unequal compression of the
    /// two ends does not matter). The dimension is spread when the mirror's chains are more
    /// likely under the box's share of its chain (`boxShare`, from the test half) than under the
    /// polyclonal share `p0`: a log-likelihood ratio above 0. Two simple hypotheses, no level to
    /// choose.
    /// - Complexity: O(n · d) per dimension cut on one side, for n members and d dimensions.
    func mirroredSpread(_ prepared: Prepared, low: [Float], high: [Float], kappa: Bool, boxShare: Double, p0: Double) -> Int? {
        let values = prepared.values, chains = prepared.chains, d = prepared.dimensions
        guard boxShare > p0 else { return nil }
        let want: Int8 = kappa ? 1 : -1
        // The box's share, kept off 1 so that a mirror with one event of the other chain is not −∞.
        let share = min(boxShare, 1 - 0.5 / Double(max(1, chains.count)))
        for k in 0..<d where (low[k] > -.infinity) != (high[k] < .infinity) {
            // A low tail inside the marker's negative mode is mirrored within that mode: the
            // logicle compresses a bright mode's spreading and keeps the negative mode's.
            let limit = k < negativeBelow.count ? negativeBelow[k] : nil
            let mode: Float = if let limit, high[k] < limit { limit } else { .infinity }
            var others: [(value: Float, wanted: Bool)] = []
            var inBox = 0
            for i in 0..<chains.count where chains[i] != 0 {
                var inside = true
                for j in 0..<d where j != k && !(values[i, j] >= low[j] && values[i, j] <= high[j]) { inside = false; break }
                guard inside, values[i, k] < mode else { continue }
                let v = values[i, k]
                others.append((v, chains[i] == want))
                if v >= low[k] && v <= high[k] { inBox += 1 }
            }
            guard inBox > 0, 2 * inBox <= others.count else { continue }
            // The other end: the lowest `inBox` values when the box keeps the high end, else the highest.
            others.sort { $0.value < $1.value }
            let mirror = low[k] > -.infinity ? others[..<inBox] : others[(others.count - inBox)...]
            let s = mirror.reduce(0) { $0 + ($1.wanted ? 1 : 0) }, f = inBox - s
            let llr = Double(s) * log(share / p0) + Double(f) * log((1 - share) / (1 - p0))
            if llr > 0 { return k }
        }
        return nil
    }
}

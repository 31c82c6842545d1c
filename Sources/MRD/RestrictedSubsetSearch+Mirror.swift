import Foundation

extension RestrictedSubsetSearch {
    /// The level at which a mirror counts as richer in the box's chain than the polyclonal share
    /// (``mirroredSpread(_:low:high:kappa:testWanted:testEvents:p0:alpha:)``, condition 1): the
    /// conventional one-sided 5%. It only establishes that spreading is present at the end no
    /// clone fills; whether the box is a clone is still decided at the clonality test's level.
    static let spreadLevel = 0.05

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
    /// two ends does not matter). The dimension is spread when both hold:
    /// 1. the mirror is richer in the box's chain than the polyclonal share `p0` (one-sided exact
    ///    binomial test at ``spreadLevel``): spreading is there, at the end no clone fills;
    /// 2. the test half's events in the box (`testWanted` of the searched chain among
    ///    `testEvents`) are not richer in that chain than the mirror's, at the clonality test's
    ///    own level `alpha` (one-sided Fisher exact test, ``FisherExactTest``): the box does not
    ///    stand out against the share spreading leaves at the other end of its own marker, as it
    ///    stood out against p₀. The test half is compared as counts, not as a share to be
    ///    believed: the box that reached this check passed a test, and its share is biased up by
    ///    that.
    ///
    /// A mirror at p₀ (a clone at one end) leaves the cut alone however the two-sample test
    /// comes out: that test is weaker than the test against a known p₀, and a small clone would
    /// be lost to it for no reason.
    /// - Complexity: O(n · d) per dimension cut on one side, for n members and d dimensions.
    func mirroredSpread(_ prepared: Prepared, low: [Float], high: [Float], kappa: Bool, testWanted: Int, testEvents: Int,
                        p0: Double, alpha: Double) -> Int? {
        mirroredSpread(values: prepared.values, chains: prepared.chains, rows: 0..<prepared.chains.count, low: low, high: high,
                       kappa: kappa, testWanted: testWanted, testEvents: testEvents, p0: p0, alpha: alpha)
    }

    /// The same among `rows` of `values` (a signature group's eligible plasma cells, ``AberrancySignatureSearch``).
    /// - Complexity: O(n · d) per dimension cut on one side, for the n rows.
    func mirroredSpread<Rows: Sequence<Int>>(values: MarkerRows, chains: [Int8], rows: Rows, low: [Float], high: [Float], kappa: Bool,
                                             testWanted: Int, testEvents: Int, p0: Double, alpha: Double) -> Int? {
        let d = values.dimensions
        let want: Int8 = kappa ? 1 : -1
        for k in 0..<d where (low[k] > -.infinity) != (high[k] < .infinity) {
            // A low tail inside the marker's negative mode is mirrored within that mode: the
            // logicle compresses a bright mode's spreading and keeps the negative mode's.
            let limit = k < negativeBelow.count ? negativeBelow[k] : nil
            let mode: Float = if let limit, high[k] < limit { limit } else { .infinity }
            var others: [(value: Float, wanted: Bool)] = []
            var inBox = 0
            for i in rows where chains[i] != 0 {
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
            let s = mirror.reduce(0) { $0 + ($1.wanted ? 1 : 0) }
            guard s > 0, regularizedBeta(p0, a: Double(s), b: Double(inBox - s + 1)) < Self.spreadLevel else { continue }
            if FisherExactTest.upperTail(successes: testWanted, of: testEvents, against: s, of: inBox) >= alpha { return k }
        }
        return nil
    }
}

/// The normal plasma cells a restricted density cluster holds beside its clone: the cells outside
/// the clone's own box, which may join r₀ for the count.
///
/// A clone of 10⁻² or more forms a density cluster of its own, and that cluster takes in the
/// normal plasma cells around it: in validation seed 94402, 25,816 events of which about 7,600
/// were normal, while the polyclonal clusters left held 1,896. The cluster's count is its clonal
/// excess, restricted − r₀ · other, so r₀'s error is multiplied by the cluster's events of the
/// other chain: r₀ from those 1,896 cells was 6% below the file's normal ratio, and the count was
/// 347 over a clone of 18,184 (2.6 SD of its Poisson band).
///
/// The remainder is found as a subset is inside a polyclonal cluster, with the same search and
/// test (``RestrictedSubsetSearch/search(_:kappa:referenceRatio:alpha:)``, on the even rows, tested
/// on the odd), widened over all the cluster's cells so that the clone's tails stay with the box
/// (``RestrictedSubsetSearch/widen(low:high:values:chains:eligible:kappa:referenceRatio:ratioVariance:groups:)``).
/// What lies outside the widened box is the remainder. It joins r₀'s cells only when its κ:λ
/// agrees with theirs (``ClonalityTest/ratiosAgree(_:_:)``, the test a subset's holder passes to
/// join): a remainder that still holds the clone's tails leans to its chain and stays out. The
/// decision is not touched; the cluster was judged restricted against the polyclonal clusters.
/// A cluster with no box that passes the test has no remainder.
///
/// - Complexity: the search's and the widening's on the cluster's n events: O(markers² · n) plus
///   the sort of each marker, O(markers · n log n).
struct RestrictedClusterRemainder: Sendable, Equatable {
    /// The remainder's events of each chain.
    let kappa: Int
    let lambda: Int
    /// Events of the cluster inside the widened box (its clone, with the normal cells that share its phenotype).
    let boxed: Int

    /// - Parameters:
    ///   - values: the cluster's events on the search markers; `chains`: 1 κ, −1 λ, 0 undetermined.
    ///   - searchHalf: per event, whether the box is drawn on it (the rest test the box).
    ///   - towardsKappa: the cluster's restricted chain.
    ///   - ratioVariance: the variance of log r₀ the widening uses.
    /// - Returns: nil when no restricted box is found.
    init?(values: MarkerRows, chains: [Int8], searchHalf: [Bool], towardsKappa: Bool, searcher: RestrictedSubsetSearch,
          referenceRatio r0: Double, alpha: Double, ratioVariance: Double, workers: Int) {
        precondition(values.count == chains.count && chains.count == searchHalf.count)
        let prepared = searcher.prepare([(values, chains, searchHalf)], workers: workers)[0]
        guard let found = searcher.search(prepared, kappa: towardsKappa, referenceRatio: r0, alpha: alpha) else { return nil }
        let box = searcher.widen(low: found.low, high: found.high, values: values, chains: chains,
                                 eligible: [Bool](repeating: true, count: chains.count), kappa: towardsKappa,
                                 referenceRatio: r0, ratioVariance: ratioVariance)
        var k = 0, l = 0, boxed = 0
        for i in 0..<chains.count {
            if values.row(i, isInside: box.low, box.high) {
                boxed += 1
            } else if chains[i] == 1 {
                k += 1
            } else if chains[i] == -1 {
                l += 1
            }
        }
        (kappa, lambda, self.boxed) = (k, l, boxed)
    }

    /// Whether the remainder joins r₀'s cells (`pool`: theirs, κ and λ).
    func agrees(with pool: (kappa: Int, lambda: Int)) -> Bool {
        ClonalityTest.ratiosAgree((kappa, lambda), pool)
    }
}

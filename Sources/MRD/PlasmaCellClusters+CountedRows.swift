extension PlasmaCellClustering {
    /// The rows each restricted subset counts, in subset order; a row taken by one is not
    /// eligible for the next. A cross-fitted count: a box drawn from the light chains of some
    /// events leans toward the chain sought among them, so each half of the events (by row
    /// parity) is counted in the box the *other* half drew — the odd rows in the deciding box,
    /// the even rows in a box searched on the odd rows (the deciding box again if they give
    /// none). Both boxes are widened over every eligible event (a polyclonal cluster's or
    /// noise): widening only over the other half cut off more of the clone's tails than the
    /// selection it removed (docs/validation.md).
    /// - Complexity: O(subsets · rows · dimensions) plus the widening's.
    func countedRows(subsets: [(cluster: Int, found: RestrictedSubsetSearch.Found, kappa: Bool)], labels: [Int32],
                     polyclonal: Set<Int>, chains: [Int8], values all: MarkerRows,
                     prepared: [Int: RestrictedSubsetSearch.Prepared], searcher: RestrictedSubsetSearch,
                     referenceRatio r0: Double, alpha: Double, ratioVariance: Double) -> [[Int]] {
        let n = labels.count, d = all.dimensions
        var eligible = labels.map { $0 < 0 || polyclonal.contains(Int($0)) }
        var result: [[Int]] = []
        for subset in subsets {
            let boxA = searcher.widen(low: subset.found.low, high: subset.found.high, values: all, chains: chains,
                                      eligible: eligible, kappa: subset.kappa, referenceRatio: r0, ratioVariance: ratioVariance, groups: labels)
            let parent = prepared[subset.cluster]!
            var oddSearch = searcher.prepare([(parent.values, parent.chains, parent.searchHalf.map { !$0 })], workers: workers)[0]
            oddSearch.uncut = parent.uncut
            // Searched the same way as the deciding box, test included (drawn on the odd rows,
            // tested on the even ones): an untested greedy box can be a chance cut of normal
            // cells, and the even rows counted in it would then add their noise, not the clone.
            let boxB = searcher.search(oddSearch, kappa: subset.kappa, referenceRatio: r0, alpha: alpha)
                .map { searcher.widen(low: $0.low, high: $0.high, values: all, chains: chains, eligible: eligible,
                                      kappa: subset.kappa, referenceRatio: r0, ratioVariance: ratioVariance, groups: labels) } ?? boxA
            let rowsIn = (0..<n).filter { row in
                let box = row & 1 == 1 ? boxA : boxB
                return eligible[row] && (0..<d).allSatisfy { all[row, $0] >= box.low[$0] && all[row, $0] <= box.high[$0] }
            }
            for row in rowsIn { eligible[row] = false }
            result.append(rowsIn)
        }
        return result
    }
}

extension PlasmaCellClustering {
    /// The rows each restricted subset counts, in subset order; a row taken by one is not
    /// eligible for the next. A cross-fitted count: a box drawn from the light chains of some
    /// events leans toward the chain sought among them, so each half of the events (by row
    /// parity) is counted in the box the *other* half drew — the odd rows in the deciding box,
    /// the even rows in a box searched on the odd rows (the deciding box again if they give
    /// none). Both boxes are widened over every eligible event (a polyclonal cluster's or
    /// noise): widening only over the other half cut off more of the clone's tails than the
    /// selection it removed (docs/validation.md). The parent's uncounted cells that share the
    /// box's aberrancies join when their excess stands out (``AberrancySlice``); each such slice
    /// is described in `notes`.
    /// - Complexity: O(subsets · rows · dimensions) plus the widening's.
    func countedRows(subsets: [(cluster: Int, found: RestrictedSubsetSearch.Found, kappa: Bool)], labels: [Int32],
                     polyclonal: Set<Int>, chains: [Int8], values all: MarkerRows,
                     prepared: [Int: RestrictedSubsetSearch.Prepared], searcher: RestrictedSubsetSearch,
                     referenceRatio r0: Double, alpha: Double, ratioVariance: Double) -> (rows: [[Int]], notes: [String]) {
        let n = labels.count
        var eligible = labels.map { $0 < 0 || polyclonal.contains(Int($0)) }
        var result: [[Int]] = []
        var notes: [String] = []
        let (names, sliceRules) = placedRules
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
            var rowsIn = (0..<n).filter { row in
                let box = row & 1 == 1 ? boxA : boxB
                return eligible[row] && all.row(row, isInside: box.low, box.high)
            }
            for row in rowsIn { eligible[row] = false }
            // The parent's members still eligible (its member list is in row order, as the labels are).
            let candidates = (parent.values.rows ?? []).map(Int.init).filter { eligible[$0] }
            let slice = AberrancySlice(rules: sliceRules, box: subset.found.members, parentValues: parent.values,
                                       candidates: candidates, values: all, chains: chains,
                                       kappa: subset.kappa, referenceRatio: r0, ratioVariance: ratioVariance)
            if !slice.rows.isEmpty {
                for row in slice.rows { eligible[row] = false }
                rowsIn = (rowsIn + slice.rows).sorted()
                let phenotype = slice.signature.map { names[$0.dimension] + ($0.above ? "+" : "−") }.joined(separator: " ")
                let (chain, otherChain) = subset.kappa ? ("κ", "λ") : ("λ", "κ")
                notes.append("a restricted \(chain) subset's count includes \(slice.rows.count) further cells of the cluster it was found in that share its aberrancies (\(phenotype)): "
                             + "their \(chain) excess (\(chain) \(slice.wanted), \(otherChain) \(slice.other)) stood beyond 2 SD of r₀ and of the cluster's other cells, as a clone's tails beyond the box")
            }
            result.append(rowsIn)
        }
        return (result, notes)
    }
}

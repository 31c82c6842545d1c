extension PlasmaCellClustering {
    /// The events the count's r₀ rests on, of each chain, and a note per restricted cluster's
    /// remainder that joined them. The decision's r₀ came from the polyclonal clusters (`pool`);
    /// for the count, two kinds of cells join it:
    /// 1. When it came from the clusters that held no subset (`othersOnly`), a holder whose
    ///    cells beside its counted rows keep their κ:λ (``ClonalityTest/ratiosAgree(_:_:)``)
    ///    shows no clone's tail, and its cells join, so the excess is not set against a few
    ///    cells' ratio alone. The boxes stand as the search found them with the others' ratio.
    /// 2. The normal cells a restricted density cluster holds beside its clone
    ///    (``RestrictedClusterRemainder``), when they agree with the pool as it then is.
    /// - Parameters:
    ///   - holders: the clusters that held a counted subset; `kappa`, `lambda`: per cluster, its
    ///     events of each chain beside the counted rows.
    ///   - restricted: the restricted density clusters, each with its chain (true: κ).
    ///   - referenceRatio: the decision's r₀, against which a remainder's box is searched.
    /// - Complexity: O(clusters), plus each restricted cluster's ``RestrictedClusterRemainder``.
    func countPool(_ pool: (kappa: Int, lambda: Int), holders: Set<Int>, othersOnly: Bool, polyclonal: Set<Int>, kappa: [Int], lambda: [Int],
                   restricted: [(Int, Bool)], members: [[Int32]], table: (rows: [Float], stored: Int, columns: [Int]), chains: [Int8],
                   searcher: RestrictedSubsetSearch, referenceRatio r0: Double, alpha: Double,
                   ratioVariance: Double) -> (pool: (kappa: Int, lambda: Int), notes: [String]) {
        var pool = pool, r0 = r0
        if othersOnly, !holders.isEmpty {
            let others = polyclonal.subtracting(holders)
            let ok = others.reduce(0) { $0 + kappa[$1] }, ol = others.reduce(0) { $0 + lambda[$1] }
            let from = others.union(holders.filter { ClonalityTest.ratiosAgree((kappa[$0], lambda[$0]), (ok, ol)) })
            if from.count > others.count {
                pool = (from.reduce(0) { $0 + kappa[$1] }, from.reduce(0) { $0 + lambda[$1] })
                r0 = Double(pool.kappa) / Double(pool.lambda)
            }
        }
        return poolWithRemainders(pool, of: restricted, members: members, table: table, chains: chains, searcher: searcher,
                                  referenceRatio: r0, alpha: alpha, ratioVariance: ratioVariance)
    }

    /// `pool`, with the remainder of each restricted density cluster (`clusters`: index and
    /// chain) that agrees with it; a note per remainder that joined.
    /// - Complexity: each cluster's ``RestrictedClusterRemainder``.
    func poolWithRemainders(_ pool: (kappa: Int, lambda: Int), of clusters: [(Int, Bool)], members: [[Int32]],
                            table: (rows: [Float], stored: Int, columns: [Int]), chains: [Int8], searcher: RestrictedSubsetSearch,
                            referenceRatio r0: Double, alpha: Double, ratioVariance: Double) -> (pool: (kappa: Int, lambda: Int), notes: [String]) {
        var joined = pool
        var notes: [String] = []
        for (c, towardsKappa) in clusters {
            let rows = members[c]
            guard let remainder = RestrictedClusterRemainder(values: MarkerRows(table: table.rows, stride: table.stored, columns: table.columns, rows: rows),
                                                             chains: rows.map { chains[Int($0)] }, searchHalf: rows.map { $0 & 1 == 0 },
                                                             towardsKappa: towardsKappa, searcher: searcher, referenceRatio: r0, alpha: alpha,
                                                             ratioVariance: ratioVariance, workers: workers),
                  remainder.agrees(with: pool) else { continue }
            joined.kappa += remainder.kappa
            joined.lambda += remainder.lambda
            notes.append("r₀ for the count includes the \(remainder.kappa + remainder.lambda) cells (κ \(remainder.kappa), λ \(remainder.lambda)) of a "
                         + "\(towardsKappa ? "κ" : "λ")-restricted cluster of \(rows.count) events that lie outside its clone's box: their κ:λ agrees with "
                         + "that of the \(pool.kappa + pool.lambda) cells of the polyclonal clusters (κ \(pool.kappa), λ \(pool.lambda))")
        }
        return (joined, notes)
    }
}

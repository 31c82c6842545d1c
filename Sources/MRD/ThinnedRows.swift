/// A deterministic subsample of rows: those where a condition holds, every k-th of them when
/// there are more than a limit (k the smallest step that keeps at most the limit). Counted
/// first, so that only the kept rows are ever listed.
///
/// Used where the statistic needs thousands of rows, not every one of a few hundred thousand
/// plasma cells: the restricted-subset search's rows, and the normal cells' κ:λ slabs.
enum ThinnedRows {
    /// The rows `0..<count` where `keep` holds, every k-th of them beyond `limit`.
    /// - Complexity: O(count) calls of `keep`, twice.
    static func every(count n: Int, limit: Int, where keep: (Int) -> Bool) -> [Int] {
        precondition(limit > 0)
        var eligible = 0
        for i in 0..<n where keep(i) { eligible += 1 }
        let step = max(1, (eligible + limit - 1) / limit)
        var kept: [Int] = []
        kept.reserveCapacity((eligible + step - 1) / step)
        var j = 0
        for i in 0..<n where keep(i) {
            if j % step == 0 { kept.append(i) }
            j += 1
        }
        return kept
    }
}

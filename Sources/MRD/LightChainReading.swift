/// How each plasma cell's light chain is read: κ, λ, or undetermined.
///
/// A plasma cell makes one light chain, so its κ and λ stand far apart. Two conditions read it:
/// - the chains differ by more than `light_chains.margin`;
/// - the higher chain stands above the **read level**: the `light_chains.unexpressed_quantile`
///   (default 0.99) of the lower chain over the sample's plasma cells. That is the level a plasma
///   cell's unexpressed chain reaches, placed from the sample itself like the aberrancy rules.
///
/// Why the level. A cell that makes no immunoglobulin can enter the plasma-cell gate: a myeloid
/// precursor bright on CD38, say. Both its chains sit at the negative level, and spillover noise
/// moves one of them past the other by the margin often enough. Such cells then read as κ or λ
/// at a ratio set by the spillover, not by clonality. At 10 million events these islands reach
/// 60–200 events and were tested like plasma cells (docs/validation.md, 10M normals). Below
/// the level a cell has no chain of its own: it takes part in no κ:λ, no test and no r₀.
///
/// A light-chain-negative clone (a few myelomas make no light chain) reads undetermined too: no
/// clonality test can see it, with or without the level.
///
/// - Complexity: O(n) for n plasma cells, plus the quantile's selection.
struct LightChainReading: Sendable, Equatable {
    /// The least difference between the two chains for either to be read (transformed units).
    let margin: Double
    /// The level the higher chain must exceed (transformed units; −∞ without plasma cells).
    let level: Float

    init(margin: Double, level: Float) {
        self.margin = margin
        self.level = level
    }

    /// Places the read level on the plasma cells' lower chains.
    /// - Parameters:
    ///   - rows: `stored` values per plasma cell; `kappa` and `lambda` are the chains' positions in a row.
    ///   - quantile: the quantile of the lower chain the higher must exceed.
    /// - Complexity: O(n) for n plasma cells.
    init(rows: [Float], stored: Int, kappa: Int, lambda: Int, margin: Double, quantile: Double) {
        let n = stored > 0 ? rows.count / stored : 0
        var lower = [Double](repeating: 0, count: n)
        for row in 0..<n { lower[row] = Double(min(rows[row * stored + kappa], rows[row * stored + lambda])) }
        self.init(margin: margin, level: ThresholdFinder.quantile(lower, quantile).map(Float.init) ?? -.infinity)
    }

    /// 1 κ, −1 λ, 0 undetermined.
    /// - Complexity: O(1).
    func chain(kappa: Float, lambda: Float) -> Int8 {
        guard max(kappa, lambda) > level else { return 0 }
        return Double(kappa - lambda) > margin ? 1 : Double(lambda - kappa) > margin ? -1 : 0
    }

    /// Every row's chain, in row order.
    /// - Complexity: O(n) for n rows.
    func chains(rows: [Float], stored: Int, kappa: Int, lambda: Int) -> [Int8] {
        let n = stored > 0 ? rows.count / stored : 0
        return (0..<n).map { row in chain(kappa: rows[row * stored + kappa], lambda: rows[row * stored + lambda]) }
    }
}

import Foundation

/// How each plasma cell's light chain is read: κ, λ, or undetermined.
///
/// A plasma cell makes one light chain, so its κ and λ stand far apart. Two conditions read it:
/// - the chains differ by more than `light_chains.margin`;
/// - the higher chain stands above the **read level**, placed from the sample itself like the
///   aberrancy rules. Every plasma cell gives one expressed and one unexpressed chain, so the κ
///   and λ values of the plasma cells together have two modes. The level is the density valley
///   between them (``ThresholdFinder/valley(_:search:smoothing:minEvents:)``), searched between
///   the median of the cells' lower chains and the median of their higher chains.
///
/// Why the level. A cell that makes no immunoglobulin can enter the plasma-cell gate: a myeloid
/// precursor bright on CD38, say. Both its chains sit in the negative mode, and spillover noise
/// moves one of them past the other by the margin often enough. Such cells then read as κ or λ
/// at a ratio set by the spillover, not by clonality. At 10 million events these islands reach
/// 60–200 events and were tested like plasma cells (docs/validation.md, 10M normals). Below
/// the level a cell has no chain of its own: it takes part in no κ:λ, no test and no r₀.
///
/// A population whose chain is dimmer than the normal cells' (a clone 2 decades dim on κ) leaves
/// a third mode between the two; the level then moves down to the valley below it
/// (``belowDimChains(_:all:lower:higher:from:)``). A dim clone that joins the negative mode's flank
/// leaves no such valley and reads undetermined; so does a light-chain-negative clone (a few
/// myelomas make no light chain), with or without the level. No clonality test sees them, and
/// a warning counts the plasma cells left without a chain (``unreadNote(minimum:)``); a cluster of
/// them blocks a negative (``ChainlessPlasmaCells``).
///
/// When the valley cannot be placed (too few plasma cells, or no valley between the modes),
/// the level is switched off: chains are read by the margin alone, and the result says so.
///
/// - Complexity: O(n) for n plasma cells (the chains; the level from at most 200,000 of them).
struct LightChainReading: Sendable, Equatable {
    /// The least difference between the two chains for either to be read (transformed units).
    let margin: Double
    /// The level the higher chain must exceed (transformed units; −∞ when switched off).
    let level: Float
    /// Why the level was switched off (nil when placed, or without plasma cells).
    let unplaced: String?
    /// Plasma cells whose higher chain lies at or below the finite level (0 when switched off).
    let unread: Int

    /// Plasma cells the level is placed on, at most: every k-th row beyond (a density needs no
    /// more; a 10M-event file whose clone is 10% of its cells holds about 900,000).
    static let placementLimit = 200_000

    init(margin: Double, level: Float, unplaced: String? = nil, unread: Int = 0) {
        self.margin = margin
        self.level = level
        self.unplaced = unplaced
        self.unread = unread
    }

    /// Places the read level on the plasma cells' chains (every k-th row beyond ``placementLimit``)
    /// and counts the cells that read no chain for want of one above it.
    /// - Parameters:
    ///   - rows: `stored` values per plasma cell; `kappa` and `lambda` are the chains' positions in a row.
    /// - Complexity: O(n) for n plasma cells (the level from at most ``placementLimit`` of them).
    init(rows: [Float], stored: Int, kappa: Int, lambda: Int, margin: Double) {
        let n = stored > 0 ? rows.count / stored : 0
        let (level, unplaced) = Self.place(rows: rows, stored: stored, kappa: kappa, lambda: lambda, count: n)
        var unread = 0
        if level.isFinite {
            let placed = LightChainReading(margin: margin, level: level)
            for row in 0..<n where placed.readsNoChain(kappa: rows[row * stored + kappa], lambda: rows[row * stored + lambda]) { unread += 1 }
        }
        self.init(margin: margin, level: level, unplaced: unplaced, unread: unread)
    }

    /// The read level of `count` rows (−∞ and why, when it cannot be placed; −∞ and nil without rows).
    /// - Complexity: O(min(count, ``placementLimit``)).
    private static func place(rows: [Float], stored: Int, kappa: Int, lambda: Int, count n: Int) -> (Float, String?) {
        guard n > 0 else { return (-.infinity, nil) }
        let step = (n + placementLimit - 1) / placementLimit
        var lower: [Double] = [], higher: [Double] = []
        lower.reserveCapacity(n / step + 1)
        higher.reserveCapacity(n / step + 1)
        for row in stride(from: 0, to: n, by: step) {
            let k = Double(rows[row * stored + kappa]), l = Double(rows[row * stored + lambda])
            lower.append(min(k, l))
            higher.append(max(k, l))
        }
        guard let from = ThresholdFinder.quantile(lower, 0.5), let to = ThresholdFinder.quantile(higher, 0.5), from < to else {
            return (-.infinity, "the plasma cells' lower and higher chains have no finite medians apart")
        }
        let all = lower + higher
        switch ThresholdFinder.valley(all, search: from...to, smoothing: ThresholdSpec.valleySmoothing,
                                     minEvents: 2 * ThresholdSpec.valleyMinEvents) {   // two chains per plasma cell
        case .found(let value): return (Float(belowDimChains(value, all: all, lower: lower, higher: higher, from: from)), nil)
        case .notFound(let reason): return (-.infinity, reason)
        }
    }

    /// The level moved down to the valley between the negative mode and a population whose
    /// chain is dimmer than the normal plasma cells' (a clone 2 decades dim on κ), when there is one.
    ///
    /// The valley placed first is the lowest density between the two medians. A dim-chain
    /// population between the negative mode and the normal cells' expressed chains leaves two
    /// valleys, and the lower density can be the empty stretch above it: read there, the dim
    /// population reads no chain, and a clone made of it is invisible to every clonality test.
    /// So the cells whose higher chain lies below the level are looked at. When at least
    /// `valley_min_events` (``ThresholdSpec/valleyMinEvents``) of them, and the density of the
    /// values below the level holds a valley between the lower chains' median and those cells'
    /// median, the level moves down to it — provided at least `valley_min_events` cells then
    /// stand across it with one chain on each side, as a cell making one light chain does. Cells
    /// that make none have their higher chain on the negative mode's flank, where no valley lies;
    /// cells with both chains above it (B cells' surface immunoglobulin, in a gate a dead CD19
    /// channel let them into) are not a chain-making population.
    /// - Complexity: O(n) for the n plasma cells.
    /// `all`: the lower chains followed by the higher ones, as the first valley was placed on.
    static func belowDimChains(_ level: Double, all: [Double], lower: [Double], higher: [Double], from: Double) -> Double {
        let unread = higher.filter { $0 < level }
        guard unread.count >= ThresholdSpec.valleyMinEvents, let top = ThresholdFinder.quantile(unread, 0.5), from < top,
              case .found(let valley) = ThresholdFinder.valley(all.filter { $0 < level }, search: from...top,
                                                               smoothing: ThresholdSpec.valleySmoothing, minEvents: 2 * ThresholdSpec.valleyMinEvents)
        else { return level }
        let across = zip(lower, higher).lazy.filter { $0.0 <= valley && $0.1 > valley && $0.1 < level }.count
        return across >= ThresholdSpec.valleyMinEvents ? valley : level
    }

    /// Whether a cell reads no chain for want of one above the level (its higher chain at or below it).
    /// - Complexity: O(1).
    func readsNoChain(kappa: Float, lambda: Float) -> Bool { !(max(kappa, lambda) > level) }

    /// 1 κ, −1 λ, 0 undetermined.
    /// - Complexity: O(1).
    func chain(kappa: Float, lambda: Float) -> Int8 {
        guard !readsNoChain(kappa: kappa, lambda: lambda) else { return 0 }
        return Double(kappa - lambda) > margin ? 1 : Double(lambda - kappa) > margin ? -1 : 0
    }

    /// Every row's chain, in row order.
    /// - Complexity: O(n) for n rows.
    func chains(rows: [Float], stored: Int, kappa: Int, lambda: Int) -> [Int8] {
        let n = stored > 0 ? rows.count / stored : 0
        return (0..<n).map { chain(kappa: rows[$0 * stored + kappa], lambda: rows[$0 * stored + lambda]) }
    }

    /// The warning when at least `minimum` plasma cells read no chain for want of one above the
    /// level: cells without immunoglobulin in the gate, or a clone whose light chain is too dim to
    /// leave a valley of its own below the level (``belowDimChains(_:all:lower:higher:from:)``). No
    /// clonality test sees them, so the reviewer is told.
    func unreadNote(minimum: Int) -> String? {
        guard level.isFinite, unread >= minimum else { return nil }
        return "\(unread) plasma cells read no light chain: their higher chain lies at or below the read level \(String(format: "%.3f", level)). "
            + "They are cells without immunoglobulin, or a clone whose light chain is too dim to read; no clonality test sees them: review them on the κ vs λ plot"
    }

    /// The level as the result reports it (nil when switched off or without plasma cells).
    var reported: Double? { level.isFinite ? round6(Double(level)) : nil }

    /// The warning when the level was switched off.
    var note: String? {
        unplaced.map { "the light-chain read level could not be placed (\($0)): a plasma cell's chain is read by light_chains.margin alone, so a cell without immunoglobulin may read κ or λ by spillover" }
    }
}

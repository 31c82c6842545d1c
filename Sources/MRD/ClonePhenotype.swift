/// The counted clone's phenotype against the normal plasma cells, marker by marker: the
/// "aberrant phenotype" of the result and its reports.
///
/// A counted cluster is often a box inside a normal cluster: it holds the clone (one chain) and
/// normal plasma cells of both chains. The median of its restricted-chain events is then mostly
/// the normal cells' of that chain, and says "normal" on the very markers the clone departs on (a
/// CD19− CD56+ clone of 164 events in a box of 1,913 κ events read CD19 0.61 and CD56 0.12, the
/// normal cells' levels, for the clone's 0.12 and 0.68). The median given here is that of the
/// counted clusters' clonal excess (``ExcessMedian``): what the count is, described.
enum ClonePhenotype {
    /// - Parameters:
    ///   - labels: per plasma-cell table row, its cluster (−1 none).
    ///   - chains: per table row, 1 κ, −1 λ, 0 undetermined.
    ///   - clusters: the counted clusters' clonality outcomes (restricted chain and ratio), by label.
    ///   - markers: the phenotype markers, each with its column in the table.
    ///   - value: the table's value of a row in a column.
    ///   - reference: the normal plasma cells' median of each marker, when there is one.
    ///   - margin: the difference beyond which a marker is "increased" or "reduced".
    ///   - limit: at most this many of the counted clusters' rows are read, every k-th beyond it
    ///     (the comparison needs the level to well within `margin`, not every event; a 10% clone
    ///     of a 10-million-event file would otherwise sort a million rows per marker).
    /// - Returns: one pattern per marker, in `markers`' order; none without counted rows.
    /// - Complexity: O(r + m · n log n) for r table rows, m markers and n = min(counted rows, limit).
    static func patterns(labels: [Int32], chains: [Int8], clusters: [Int: ClonalityTest.Outcome],
                         markers: [(name: String, column: Int)], value: (Int, Int) -> Float,
                         reference: [String: Double]?, margin: Double, limit: Int = PlasmaCellClustering.medianLimit) -> [MRDResult.MarkerPattern] {
        guard let last = clusters.keys.max() else { return [] }
        var counted = [Bool](repeating: false, count: last + 1)
        for c in clusters.keys where c >= 0 { counted[c] = true }
        func isCounted(_ label: Int32) -> Bool { label >= 0 && Int(label) <= last && counted[Int(label)] }
        // Every k-th counted row, in table order.
        let rows = ThinnedRows.every(count: labels.count, limit: limit) { isCounted(labels[$0]) }
        guard !rows.isEmpty else { return [] }
        let order = clusters.keys.sorted()
        let populations = order.map { c in
            let o = clusters[c]!
            return o.direction == "kappa" ? ExcessMedian.Population(want: 1, ratio: o.referenceRatio)
                : ExcessMedian.Population(want: -1, ratio: 1 / o.referenceRatio)
        }
        let index = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($0.element, $0.offset) })
        let population = rows.map { index[Int(labels[$0])]! }
        let rowChains = rows.map { chains[$0] }
        return markers.map { marker in
            let values = rows.map { value($0, marker.column) }
            let estimate = ExcessMedian.estimate(values: values, chains: rowChains, populations: populations) { population[$0] }
            // Without a positive excess (not a counted cluster's state), the restricted chain's median.
            let median = estimate?.median
                ?? ThresholdFinder.quantile(rows.indices.filter { rowChains[$0] == populations[population[$0]].want }.map { Double(values[$0]) }, 0.5)
                ?? .nan
            let normal = reference?[marker.name]
            let pattern = normal.map { median - $0 > margin ? "increased" : $0 - median > margin ? "reduced" : "normal" } ?? "no_reference"
            let uncertain = normal.flatMap { n in
                estimate.map { e in [n - margin, n + margin].contains { e.low < $0 && $0 < e.high } }
            }
            return .init(marker: marker.name, aberrantMedian: round6(median), normalMedian: normal.map(round6), pattern: pattern,
                         aberrantMedianCI95: estimate.map { [round6($0.low), round6($0.high)] }, uncertain: uncertain)
        }
    }
}

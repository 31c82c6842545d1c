import Foundation

/// Plasma cells that read no light chain, gathered in a cluster of their own: a light-chain-negative
/// clone, or one whose chain is too dim to stand above the read level.
///
/// Every normal plasma cell makes one light chain, so below the read level
/// (``LightChainReading``) a plasma cell has none that can be seen. Two kinds of cell sit there:
/// - cells that make no immunoglobulin and entered the plasma-cell gate by another marker (a
///   CD38-bright myeloid precursor, CD138 negative);
/// - plasma cells whose chain is absent or too dim: a light-chain-negative myeloma, or a clone
///   whose chain joined the negative mode's flank.
///
/// No clonality test can see either: without a chain there is no κ:λ to restrict. The second kind
/// must not pass as a negative, so the template's `light_chains.chainless_gate` names a threshold
/// gate on a marker only plasma cells carry (CD138). A cluster is a chainless population when,
/// among its cells above that gate's threshold as placed for the sample:
/// - at least the LOD's events read no chain for want of one above the level;
/// - their share exceeds that of every other clustered plasma cell above the threshold, by
///   Fisher's exact test at `light_chains.alpha` (Bonferroni over the clusters so tested);
/// - and their excess over that share reaches the LOD.
///
/// Such a population blocks a negative for review (``MRDDecision``). It is never counted as MRD:
/// clonality cannot be shown without a chain. Plasma cells reading no chain outside every
/// cluster, and a clone negative for the gate's marker as well, are not seen.
///
/// - Complexity: O(n) for n plasma cells, plus the tests' O(chainless cells) each.
struct ChainlessPlasmaCells: Sendable, Equatable {
    /// One cluster's chainless cells.
    struct Population: Sendable, Equatable {
        /// Index of the cluster (``PlasmaCellClustering/Outcome/clusters``).
        let cluster: Int
        /// Its cells above the gate's threshold, and those of them reading no chain.
        let positive: Int
        let chainless: Int
        /// The chainless cells beyond the share the other clustered plasma cells have.
        let excess: Int
        let pValue: Double
    }

    /// The gate whose threshold a plasma cell must exceed, its marker and the threshold.
    let gate: String
    let marker: String
    let threshold: Float
    /// Clusters holding a chainless population, in cluster order.
    let populations: [Population]

    /// The chainless excess of every population together.
    var excess: Int { populations.reduce(0) { $0 + $1.excess } }

    /// Finds the chainless populations among `labels`' clusters.
    /// - Parameters:
    ///   - rows: `stored` values per plasma cell; `kappa`, `lambda` and `column` (the gate's marker) are positions in a row.
    ///   - labels: each row's cluster (−1: none); `clusters` is their number.
    ///   - reading: how the chains were read (a finite level; ``LightChainReading``).
    ///   - minimum: the LOD's events.
    /// - Complexity: O(n) for n rows, plus each tested cluster's Fisher test.
    init(rows: [Float], stored: Int, kappa: Int, lambda: Int, column: Int, gate: String, marker: String, threshold: Float,
         reading: LightChainReading, labels: [Int32], clusters: Int, alpha: Double, minimum: Int) {
        self.gate = gate
        self.marker = marker
        self.threshold = threshold
        var positive = [Int](repeating: 0, count: clusters), chainless = [Int](repeating: 0, count: clusters)
        for (row, label) in labels.enumerated() where label >= 0 && rows[row * stored + column] > threshold {
            positive[Int(label)] += 1
            if reading.readsNoChain(kappa: rows[row * stored + kappa], lambda: rows[row * stored + lambda]) { chainless[Int(label)] += 1 }
        }
        let (allPositive, allChainless) = (positive.reduce(0, +), chainless.reduce(0, +))
        let tested = (0..<clusters).filter { chainless[$0] >= minimum }
        var found: [Population] = []
        for c in tested {
            let (otherPositive, otherChainless) = (allPositive - positive[c], allChainless - chainless[c])
            let share = otherPositive > 0 ? Double(otherChainless) / Double(otherPositive) : 0
            let excess = Int((Double(chainless[c]) - share * Double(positive[c])).rounded(.down))
            let p = FisherExactTest.upperTail(successes: chainless[c], of: positive[c], against: otherChainless, of: otherPositive)
            if excess >= minimum && p < alpha / Double(tested.count) {
                found.append(Population(cluster: c, positive: positive[c], chainless: chainless[c], excess: excess, pValue: p))
            }
        }
        populations = found
    }

    /// The finding in words (nil without a population): the reason a negative is withheld.
    var finding: String? {
        guard !populations.isEmpty else { return nil }
        let each = populations.map { "\($0.chainless) of its \($0.positive)" }.joined(separator: "; ")
        return "plasma cells without a light chain: \(excess) \(marker)-positive plasma cells beyond the other plasma cells' share read neither κ nor λ, "
            + "\(populations.count == 1 ? "in one cluster" : "in \(populations.count) clusters") (\(each) above gate \(gate) at \(String(format: "%.3f", threshold))): "
            + "a light-chain-negative clone, or a chain too dim to read; no clonality test can see them — review on the κ vs λ plot"
    }
}

extension ChainlessPlasmaCells {
    /// The search as the template asks for it, on a clustering's plasma cells (nil when the template
    /// names no `chainless_gate`, the read level or the gate's threshold was not placed, or a column is missing).
    /// - Complexity: as ``init(rows:stored:kappa:lambda:column:gate:marker:threshold:reading:labels:clusters:alpha:minimum:)``.
    init?(_ outcome: PlasmaCellClustering.Outcome, rows: [Float], columns: [String], thresholds: [MRDResult.Threshold], rules: MRDRules) {
        guard let gate = rules.chainlessGate, let placed = thresholds.first(where: { $0.name == gate }), let value = placed.value,
              outcome.lightChainReading.level.isFinite, let column = columns.firstIndex(of: placed.marker),
              let k = columns.firstIndex(of: rules.kappa), let l = columns.firstIndex(of: rules.lambda) else { return nil }
        self.init(rows: rows, stored: columns.count, kappa: k, lambda: l, column: column, gate: gate, marker: placed.marker,
                  threshold: Float(value), reading: outcome.lightChainReading, labels: outcome.labels,
                  clusters: outcome.clusters.count, alpha: rules.clonalityAlpha, minimum: rules.minClusterEvents)
    }

    /// The search as the result reports it, each population's cluster at its position among the
    /// listed clusters (`listed[i]`: the index of the i-th listed cluster).
    /// - Complexity: O(populations · listed clusters).
    func reported(listed: [Int]) -> MRDResult.Clonality.Chainless {
        .init(gate: gate, marker: marker, threshold: round6(Double(threshold)), excess: excess, populations: populations.map { p in
            .init(cluster: listed.firstIndex(of: p.cluster), aboveGate: p.positive, withoutChain: p.chainless, excess: p.excess, pValue: p.pValue)
        })
    }
}

extension GateSpec {
    /// Whether `light_chains.chainless_gate` may name this gate: a threshold keeping the events
    /// above it, on a marker the plasma-cell rows hold (a cluster dimension).
    func isChainlessGate(storedWith rules: MRDRules) -> Bool {
        guard case .threshold(let marker, .above, _) = kind else { return false }
        return rules.clusterDimensions.contains(marker)
    }
}

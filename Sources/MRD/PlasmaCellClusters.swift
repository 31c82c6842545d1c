import Foundation

/// One cluster of plasma cells, its light chains and what it is.
public struct PlasmaCellCluster: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable {
        /// Light-chain restricted and phenotypically distinct from the normal reference: MRD.
        case mrd
        /// Restricted, but no phenotypic departure (or no normal reference to compare with): review.
        case monotypic
        /// Polyclonal with a phenotypic departure: a normal subset (CD19−, CD56+ …), never counted.
        case normalSubset = "normal_subset"
        /// Polyclonal, normal phenotype.
        case normal
    }

    public struct Departure: Sendable, Equatable, Codable {
        public let marker: String
        /// Cluster median minus reference median, transformed units.
        public let difference: Double
    }

    public let size: Int
    public let role: Role
    public let clonality: ClonalityTest.Outcome
    /// Markers on which the cluster's median departs from the normal reference by more than the margin.
    public let departures: [Departure]
}

/// Clustering and clonality of every plasma cell of a sample: the stage between the full pass
/// and the call.
///
/// 1. All plasma cells are clustered (``DensityClustering``) in the template's cluster
///    dimensions — not only the ones that break an aberrancy rule.
/// 2. Each cluster large enough for complete restriction to reach `alpha` (about 15 events)
///    has its κ and λ events (`light_chains.margin` apart) tested against the polyclonal ratio
///    r₀ of the *other* polyclonal clusters (``ClonalityTest``, Bonferroni over the clusters
///    tested), re-estimated until the polyclonal set is stable; with fewer than
///    `min_normal_plasma_cells` polyclonal events, the template's `normal_ratio` is used.
/// 3. The normal reference is the pooled plasma cells of the polyclonal clusters (not a
///    CD19+ CD56− gate, which a CD19+ clone also passes); each cluster's median per phenotype
///    marker is compared with it, a difference beyond `phenotype.margin` being a departure.
/// 4. Restricted + departure → MRD; restricted only → monotypic; departure only → normal
///    subset; neither → normal.
///
/// - Complexity: the clustering's (O(n log n) typical), plus O(n · markers · log n) for medians.
struct PlasmaCellClustering {
    let rules: MRDRules
    /// Markers left out of the phenotype comparison (CD38 under declared anti-CD38 masking).
    var ignoredMarkers: Set<String> = []

    struct Outcome {
        var clusters: [PlasmaCellCluster]
        /// Per row: its cluster index in ``clusters`` (−1: noise).
        var labels: [Int]
        var referenceRatio: Double
        /// "sample" (from polyclonal clusters) or "template".
        var ratioSource: String
        var polyclonalEvents: Int
        var referenceMedians: [String: Double]?
        var subsampled: Bool
    }

    /// - Parameters: rows of `stored` values each, in the order of `columns`.
    func run(rows: [Float], stored: Int, columns: [String]) -> Outcome {
        let n = stored > 0 ? rows.count / stored : 0
        let clusterColumns = rules.clusterDimensions.map { columns.firstIndex(of: $0)! }
        var points: [Float] = []
        points.reserveCapacity(n * clusterColumns.count)
        for i in 0..<n { for c in clusterColumns { points.append(rows[i * stored + c]) } }
        let clustering = DensityClustering(radius: rules.clusterRadius, minNeighbours: rules.clusterMinNeighbours)
            .cluster(points: points, dimensions: clusterColumns.count)
        let k = columns.firstIndex(of: rules.kappa)!, l = columns.firstIndex(of: rules.lambda)!
        let count = clustering.sizes.count
        var kappa = [Int](repeating: 0, count: count), lambda = [Int](repeating: 0, count: count)
        var members = [[Int]](repeating: [], count: count)
        for (row, label) in clustering.labels.enumerated() where label >= 0 {
            members[label].append(row)
            let kv = rows[row * stored + k], lv = rows[row * stored + l]
            if Double(kv - lv) > rules.lightChainMargin { kappa[label] += 1 } else if Double(lv - kv) > rules.lightChainMargin { lambda[label] += 1 }
        }
        // Clonality of every cluster large enough to be tested, each
        // against the polyclonal ratio of the *other* polyclonal clusters (so a clone never
        // drags its own reference), re-estimated until the polyclonal set is stable.
        let test = ClonalityTest(alpha: rules.clonalityAlpha, restrictionRatio: rules.restrictionRatio)
        // A cluster is tested when complete restriction could reach alpha at all: n ≥ log α / log(max(p, 1 − p))
        // for the template's polyclonal κ share p (about 15 events at α = 0.001).
        let share = rules.normalKappaLambda / (1 + rules.normalKappaLambda)
        let testable = Int((log(rules.clonalityAlpha) / log(max(share, 1 - share))).rounded(.up))
        let tested = (0..<count).filter { clustering.sizes[$0] >= testable }
        let alpha = rules.clonalityAlpha / Double(max(1, tested.count))
        var polyclonal = Set(tested)
        func ratio(excluding c: Int?) -> (Double, String) {
            let pool = polyclonal.subtracting(c.map { [$0] } ?? [])
            let pk = pool.reduce(0) { $0 + kappa[$1] }, pl = pool.reduce(0) { $0 + lambda[$1] }
            return pk + pl >= rules.minNormalPlasmaCells && pl > 0 && pk > 0 ? (Double(pk) / Double(pl), "sample") : (rules.normalKappaLambda, "template")
        }
        var outcomes = [ClonalityTest.Outcome?](repeating: nil, count: count)
        for _ in 0..<8 {
            for c in tested { outcomes[c] = test.test(kappa: kappa[c], lambda: lambda[c], referenceRatio: ratio(excluding: c).0, alpha: alpha) }
            let next = Set(tested.filter { !outcomes[$0]!.restricted })
            if next == polyclonal { break }
            polyclonal = next
        }
        let (reportedRatio, source) = ratio(excluding: nil)
        for c in 0..<count where outcomes[c] == nil {
            // Too small to test: described against the sample's ratio, never restricted.
            let o = test.test(kappa: kappa[c], lambda: lambda[c], referenceRatio: reportedRatio, alpha: alpha)
            outcomes[c] = ClonalityTest.Outcome(kappa: o.kappa, lambda: o.lambda, referenceRatio: o.referenceRatio, direction: o.direction,
                                                pValue: o.pValue, oddsRatio: o.oddsRatio, restricted: false, excess: 0, excessLow: 0, excessHigh: 0)
        }
        // The normal reference: pooled members of the polyclonal clusters.
        let referenceRows = polyclonal.sorted().flatMap { members[$0] }
        let phenotypeColumns = rules.phenotypeMarkers.filter { !ignoredMarkers.contains($0) }.map { ($0, columns.firstIndex(of: $0)!) }
        func median(_ rowsOf: [Int], _ c: Int) -> Double? { ThresholdFinder.quantile(rowsOf.map { Double(rows[$0 * stored + c]) }, 0.5) }
        var reference: [String: Double]?
        if referenceRows.count >= rules.minNormalPlasmaCells {
            var medians: [String: Double] = [:]
            for (name, c) in phenotypeColumns { medians[name] = median(referenceRows, c) }
            reference = medians
        }
        var clusters: [PlasmaCellCluster] = []
        for c in 0..<count {
            var departures: [PlasmaCellCluster.Departure] = []
            if let reference {
                for (name, column) in phenotypeColumns {
                    guard let m = median(members[c], column), let r = reference[name] else { continue }
                    if abs(m - r) > rules.phenotypeMargin { departures.append(.init(marker: name, difference: round6(m - r))) }
                }
            }
            let restricted = outcomes[c]!.restricted
            let role: PlasmaCellCluster.Role = restricted ? (departures.isEmpty ? .monotypic : .mrd) : (departures.isEmpty ? .normal : .normalSubset)
            clusters.append(PlasmaCellCluster(size: clustering.sizes[c], role: role, clonality: outcomes[c]!, departures: departures))
        }
        return Outcome(clusters: clusters, labels: clustering.labels, referenceRatio: reportedRatio, ratioSource: source,
                       polyclonalEvents: polyclonal.reduce(0) { $0 + kappa[$1] + lambda[$1] }, referenceMedians: reference,
                       subsampled: clustering.subsampled)
    }
}

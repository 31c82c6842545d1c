/// One marrow's normal plasma cells as a reference is built from them: the rows of the
/// polyclonal clusters (normal and normal-subset roles; restricted and unclustered cells left
/// out) in the template's phenotype markers, with each cell's light chain.
struct ReferenceSample: Sendable {
    let markers: [String]
    /// Row-major, `markers.count` values per cell.
    let rows: [Float]
    /// 1 κ, −1 λ, 0 undetermined.
    let chains: [Int8]
    var count: Int { chains.count }
    /// The other populations the reference describes (``GatingTemplate/referencePopulations``), and their % of nucleated cells.
    var populations: [String: PopulationProfile] = [:]
    var populationPercent: [String: Double] = [:]

    /// - Complexity: O(plasma cells × markers).
    init(full: MRDAnalyzer.FullPass, clustering: PlasmaCellClustering.Outcome, rules: MRDRules) {
        markers = rules.phenotypeMarkers
        let stored = full.columns.count
        let columns = markers.map { full.columns.firstIndex(of: $0)! }
        var rows: [Float] = [], chains: [Int8] = []
        for (row, label) in clustering.labels.enumerated() where label >= 0 {
            let role = clustering.clusters[Int(label)].role
            guard role == .normal || role == .normalSubset else { continue }
            for c in columns { rows.append(full.candidates[row * stored + c]) }
            chains.append(clustering.chains[row])
        }
        self.rows = rows
        self.chains = chains
    }

    init(markers: [String], rows: [Float], chains: [Int8]) {
        self.markers = markers
        self.rows = rows
        self.chains = chains
    }

    /// Every cluster's distance to the nearest normal subset of `reference`, from the mean of its
    /// rows in the reference's markers (the markers must be the template's phenotype markers).
    /// - Complexity: O(plasma cells × markers + clusters × subsets × markers³).
    static func attachDistances(to clustering: inout PlasmaCellClustering.Outcome, reference: NormalReference,
                                full: MRDAnalyzer.FullPass, rules: MRDRules) {
        let stored = full.columns.count
        guard let columns = Optional(reference.plasmaCells.markers.compactMap { full.columns.firstIndex(of: $0) }),
              columns.count == reference.plasmaCells.markers.count else { return }
        let d = columns.count
        var sums = [Double](repeating: 0, count: clustering.clusters.count * d), counts = [Int](repeating: 0, count: clustering.clusters.count)
        for (row, label32) in clustering.labels.enumerated() where label32 >= 0 {
            let label = Int(label32)
            counts[label] += 1
            for (j, c) in columns.enumerated() { sums[label * d + j] += Double(full.candidates[row * stored + c]) }
        }
        for i in clustering.clusters.indices where counts[i] > 0 && clustering.clusters[i].referenceDistance == nil {
            let mean = (0..<d).map { sums[i * d + $0] / Double(counts[i]) }
            clustering.clusters[i].referenceDistance = reference.distance(of: mean)
        }
    }
}

/// Where one population sits in the phenotype markers, from the subsample that places the
/// data-driven gates: its events' mean and covariance (a reference describes the populations
/// behind hemodilution and masking this way, issue 16).
struct PopulationProfile: Sendable {
    let events: Int
    /// Per marker, in the order asked for.
    let means: [Double]
    /// Row-major, markers × markers.
    let covariance: [Double]

    /// - Complexity: O(events × (log events + markers²)).
    init(columns unordered: [[Double]]) {
        let d = unordered.count, n = unordered.first?.count ?? 0
        // Rows in a fixed order (the subsample's workers deliver blocks in any order), so sums round the same every run.
        let order = (0..<n).sorted { i, j in
            for c in 0..<d where unordered[c][i] != unordered[c][j] { return unordered[c][i] < unordered[c][j] }
            return false
        }
        let columns = unordered.map { column in order.map { column[$0] } }
        events = n
        let means = columns.map { n > 0 ? $0.reduce(0, +) / Double(n) : .nan }
        var covariance = [Double](repeating: 0, count: d * d)
        if n > 1 {
            for a in 0..<d {
                for b in a..<d {
                    var sum = 0.0
                    for e in 0..<n { sum += (columns[a][e] - means[a]) * (columns[b][e] - means[b]) }
                    covariance[a * d + b] = sum / Double(n - 1)
                    covariance[b * d + a] = covariance[a * d + b]
                }
            }
        }
        self.means = means
        self.covariance = covariance
    }
}

extension SampleGating {
    /// The profile of each population in `markers` (one more subsample pass; only a reference build asks).
    /// - Complexity: one pass over the subsample, then O(events × markers²) per population.
    func profiles(of populations: [String], markers: [String]) throws(MRDError) -> [String: PopulationProfile] {
        let samples = try collect(populations.map { (population: $0, markers: markers) })
        return Dictionary(uniqueKeysWithValues: zip(populations, samples.map { PopulationProfile(columns: $0) }))
    }
}

extension GatingTemplate {
    /// The populations a reference describes besides the plasma cells: the hemodilution indicators'
    /// gates and every population a data-driven threshold is placed on (lymphocytes in the bundled
    /// template, whose CD38 shows anti-CD38 masking), in template order.
    var referencePopulations: [String] {
        var wanted = Set(qc.indicators.map(\.gate))
        for gate in gates {
            if case .threshold(_, _, let threshold) = gate.kind, let p = threshold.population { wanted.insert(p) }
        }
        for rule in mrd.rules { if let p = rule.threshold.population { wanted.insert(p) } }
        return gates.map(\.id).filter(wanted.contains)
    }
}

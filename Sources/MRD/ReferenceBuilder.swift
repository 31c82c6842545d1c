import Foundation

/// Builds a ``NormalReference`` from a lab's normal or regenerating marrows (issue 16).
///
/// Each file is analysed with the template exactly as `analyze` would; a file that fails QC, is
/// not evaluable, or is called positive is refused with the reason (a reference of diseased or
/// unreadable marrow would hide disease). Of each accepted file the normal plasma cells (the
/// polyclonal clusters) are taken, at most ``perFileLimit`` of them (every k-th), so that no
/// file outweighs the others. Pooled, they are clustered with the template's density settings
/// in its phenotype markers; each cluster of at least ``minimumSubsetShare`` of the pooled
/// cells is a normal subset, described by its mean and covariance, its share of every file's
/// normal plasma cells and its κ:λ. The hemodilution indicators' levels and the normal plasma
/// cells' medians and κ:λ are kept per file with their 5th, 50th and 95th percentiles.
///
/// Same files in the same order, template and software give identical bytes.
public struct ReferenceBuilder: Sendable {
    public var analyzer: MRDAnalyzer
    public var description: String
    public var synthetic: Bool
    /// Normal plasma cells taken from one file, at most.
    public var perFileLimit = 5_000
    /// A pooled cluster's share of all pooled normal plasma cells for it to be a subset.
    public var minimumSubsetShare = 0.01

    public init(analyzer: MRDAnalyzer, description: String, synthetic: Bool = false) {
        var analyzer = analyzer
        analyzer.collectsReferenceSample = true
        analyzer.computeChecksum = true
        self.analyzer = analyzer
        self.description = description
        self.synthetic = synthetic
    }

    /// - Parameter progress: called before each file with its index and path.
    /// - Throws: ``MRDError/reference(file:detail:)`` for too few files or a refused file (naming
    ///   it and why), and the analysis's own error for a file that cannot be read.
    /// - Complexity: one analysis per file, then the density clustering of at most
    ///   files × ``perFileLimit`` cells.
    public func build(paths: [String], output: String, progress: (Int, String) -> Void = { _, _ in }) throws(MRDError) -> NormalReference {
        guard paths.count >= NormalReference.minimumFiles else {
            throw .reference(file: output, detail: "needs at least \(NormalReference.minimumFiles) normal marrows (given \(paths.count)); a lab should use 10–20")
        }
        var accepted: [Accepted] = []
        for (i, path) in paths.enumerated() {
            progress(i, path)
            accepted.append(try accept(path, output: output))
        }
        return try assemble(accepted, output: output)
    }

    /// One marrow as a reference takes it: its file record, indicator levels, normal plasma cells.
    public struct Accepted: Sendable {
        let path: String
        let file: NormalReference.SourceFile
        let levels: [String: Double]
        let sample: ReferenceSample
        let medians: [String: Double]
        let ratio: Double?
        let populations: [String: PopulationProfile]
        let populationPercent: [String: Double]
    }

    /// Analyses one marrow and keeps what the reference needs, or refuses it with the reason.
    /// - Complexity: one analysis.
    public func accept(_ path: String, output: String) throws(MRDError) -> Accepted {
        let rules = analyzer.template.mrd
        let analysis = try analyzer.analyzeForReference(path: path)
        let result = analysis.result
        func refuse(_ why: String) -> MRDError { .reference(file: output, detail: "cannot be built from \(path): \(why)") }
        switch result.call {
        case .negative: break
        case .positive, .positiveBelowLLOQ: throw refuse("it is called MRD positive (\(result.callText)); a reference is built from normal marrows only")
        case .notEvaluable: throw refuse("it is not evaluable (\(result.notEvaluableReasons.joined(separator: "; ")))")
        }
        guard result.qc.passed else { throw refuse("it fails acquisition QC (\(result.qc.failures.joined(separator: "; ")))") }
        guard let full = analysis.referenceSample, full.count >= rules.minNormalPlasmaCells else {
            throw refuse("it has \(analysis.referenceSample?.count ?? 0) normal plasma cells, fewer than the template's minimum \(rules.minNormalPlasmaCells)")
        }
        var medians: [String: Double] = [:]
        for (j, marker) in full.markers.enumerated() {
            let values = stride(from: j, to: full.rows.count, by: full.markers.count).map { Double(full.rows[$0]) }
            medians[marker] = ThresholdFinder.quantile(values, 0.5) ?? .nan
        }
        let kappa = full.chains.filter { $0 == 1 }.count, lambda = full.chains.filter { $0 == -1 }.count
        return Accepted(path: path,
                        file: .init(name: (path as NSString).lastPathComponent, sha256: result.fileSHA256 ?? "", nucleatedCells: result.nucleatedCells, normalPlasmaCells: full.count),
                        levels: Dictionary(result.qc.hemodilution.map { ($0.gate, $0.percentOfNucleated) }, uniquingKeysWith: { a, _ in a }),
                        sample: Self.thinned(full, limit: perFileLimit), medians: medians, ratio: lambda > 0 ? Double(kappa) / Double(lambda) : nil,
                        populations: full.populations, populationPercent: full.populationPercent)
    }

    /// The reference of these accepted marrows, in their order.
    /// - Complexity: the density clustering of at most marrows × ``perFileLimit`` cells.
    public func assemble(_ accepted: [Accepted], output: String) throws(MRDError) -> NormalReference {
        let template = analyzer.template, rules = template.mrd
        var indicators: [String: [Double]] = [:], medians: [String: [Double]] = [:]
        for a in accepted {
            for (gate, level) in a.levels { indicators[gate, default: []].append(level) }
            for (marker, median) in a.medians { medians[marker, default: []].append(median) }
        }
        var reference = NormalReference(
            synthetic: synthetic, description: description, software: MRDAnalyzer.software,
            template: .init(name: template.name, version: template.version, sha256: template.checksum), files: accepted.map(\.file),
            hemodilution: indicators.mapValues(NormalReference.Distribution.init),
            marrowScore: .init(levels: accepted.map(\.levels), nucleated: accepted.map(\.file.nucleatedCells)),
            plasmaCells: .init(markers: rules.phenotypeMarkers, subsets: Self.subsets(accepted.map(\.sample), rules: rules, minimumShare: minimumSubsetShare),
                               medians: medians.mapValues(NormalReference.Distribution.init), kappaLambda: NormalReference.Distribution(accepted.compactMap(\.ratio))),
            populations: Self.populations(accepted, markers: rules.phenotypeMarkers))
        do { reference = try JSONDecoder().decode(NormalReference.self, from: try reference.encoded()) } catch {
            throw .reference(file: output, detail: "could not be encoded: \(error)")
        }
        return reference
    }

    /// Leave-one-out: each marrow analysed against the reference of all the others (which must be
    /// at least ``NormalReference/minimumFiles``). A reference that is right calls none of them positive.
    /// - Complexity: two analyses per marrow and one reference assembly per marrow.
    public func leaveOneOut(paths: [String], progress: (Int, String) -> Void = { _, _ in }) throws(MRDError) -> [(file: String, result: MRDResult)] {
        guard paths.count > NormalReference.minimumFiles else {
            throw .reference(file: "leave-one-out", detail: "needs at least \(NormalReference.minimumFiles + 1) normal marrows (given \(paths.count))")
        }
        var accepted: [Accepted] = []
        for (i, path) in paths.enumerated() {
            progress(i, path)
            accepted.append(try accept(path, output: "leave-one-out"))
        }
        var outcomes: [(String, MRDResult)] = []
        for i in accepted.indices {
            progress(paths.count + i, paths[i])
            let others = accepted.indices.filter { $0 != i }.map { accepted[$0] }
            var judged = analyzer
            judged.collectsReferenceSample = false
            try judged.use(reference: try assemble(others, output: "leave-one-out"), file: "all but \(accepted[i].file.name)")
            outcomes.append((paths[i], try judged.analyze(path: paths[i])))
        }
        return outcomes
    }

    /// Each population's description over the accepted marrows (files where it had fewer than two
    /// subsample events count for its share only).
    /// - Complexity: O(marrows × populations × markers²).
    static func populations(_ accepted: [Accepted], markers: [String]) -> [String: NormalReference.PopulationReference] {
        let d = markers.count
        var result: [String: NormalReference.PopulationReference] = [:]
        for id in Set(accepted.flatMap { $0.populations.keys }).sorted() {
            let profiles = accepted.compactMap { $0.populations[id] }.filter { $0.events > 1 }
            guard !profiles.isEmpty else { continue }
            let centroid = (0..<d).map { j in profiles.reduce(0.0) { $0 + $1.means[j] } / Double(profiles.count) }
            var covariance = [Double](repeating: 0, count: d * d)
            for p in profiles { for k in 0..<(d * d) { covariance[k] += p.covariance[k] / Double(profiles.count) } }
            if profiles.count > 1 {
                for p in profiles { for a in 0..<d { for b in 0..<d {
                    covariance[a * d + b] += (p.means[a] - centroid[a]) * (p.means[b] - centroid[b]) / Double(profiles.count - 1)
                } } }
            }
            var means: [String: NormalReference.Distribution] = [:]
            for (j, marker) in markers.enumerated() { means[marker] = .init(profiles.map { $0.means[j] }) }
            result[id] = .init(markers: markers, centroid: centroid.map(round6), covariance: covariance.map(round6), means: means,
                               share: .init(accepted.compactMap { $0.populationPercent[id] }), events: profiles.reduce(0) { $0 + $1.events })
        }
        return result
    }

    /// Every k-th cell, so at most `limit` remain.
    static func thinned(_ sample: ReferenceSample, limit: Int) -> ReferenceSample {
        let step = max(1, (sample.count + limit - 1) / limit)
        guard step > 1 else { return sample }
        let d = sample.markers.count
        var rows: [Float] = [], chains: [Int8] = []
        for i in stride(from: 0, to: sample.count, by: step) {
            rows.append(contentsOf: sample.rows[(i * d)..<((i + 1) * d)])
            chains.append(sample.chains[i])
        }
        return ReferenceSample(markers: sample.markers, rows: rows, chains: chains)
    }

    /// The normal subsets of the pooled cells.
    /// - Complexity: the density clustering's, plus O(cells × markers²).
    static func subsets(_ samples: [ReferenceSample], rules: MRDRules, minimumShare: Double) -> [NormalReference.Subset] {
        guard let d = samples.first?.markers.count else { return [] }
        let pooled = samples.flatMap(\.rows)
        let owner = samples.enumerated().flatMap { i, s in [Int](repeating: i, count: s.count) }
        let chains = samples.flatMap(\.chains)
        let clustering = DensityClustering(radius: rules.clusterRadius, minNeighbours: rules.clusterMinNeighbours).cluster(points: pooled, dimensions: d)
        let total = owner.count
        var subsets: [NormalReference.Subset] = []
        for (label, size) in clustering.sizes.enumerated() where Double(size) >= minimumShare * Double(total) {
            let members = clustering.labels.indices.filter { Int(clustering.labels[$0]) == label }
            var mean = [Double](repeating: 0, count: d)
            for m in members { for j in 0..<d { mean[j] += Double(pooled[m * d + j]) } }
            mean = mean.map { $0 / Double(members.count) }
            var covariance = [Double](repeating: 0, count: d * d)
            for m in members {
                for a in 0..<d {
                    let da = Double(pooled[m * d + a]) - mean[a]
                    for b in a..<d { covariance[a * d + b] += da * (Double(pooled[m * d + b]) - mean[b]) }
                }
            }
            for a in 0..<d { for b in a..<d {
                covariance[a * d + b] /= Double(max(1, members.count - 1))
                covariance[b * d + a] = covariance[a * d + b]
            } }
            var perFile = [Int](repeating: 0, count: samples.count), kappa = perFile, lambda = perFile
            for m in members {
                perFile[owner[m]] += 1
                if chains[m] == 1 { kappa[owner[m]] += 1 } else if chains[m] == -1 { lambda[owner[m]] += 1 }
            }
            let ratios = samples.indices.compactMap { lambda[$0] > 0 && kappa[$0] > 0 ? Double(kappa[$0]) / Double(lambda[$0]) : nil }
            subsets.append(.init(centroid: mean.map(round6), covariance: covariance.map(round6),
                                 share: .init(samples.indices.map { Double(perFile[$0]) / Double(max(1, samples[$0].count)) }),
                                 kappaLambda: ratios.isEmpty ? nil : .init(ratios), events: members.count))
        }
        return subsets.sorted { $0.events > $1.events }
    }
}

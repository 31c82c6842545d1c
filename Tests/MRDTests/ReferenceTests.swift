import FCS
import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Synthetic

/// The normal-marrow reference (issue 16): building, the file's checks, its percentiles and
/// distances, and hemodilution judged against it.
@Suite("Normal-marrow reference")
struct ReferenceTests {
    let directory = TemporaryDirectory()
    static let template = ClonalityTests.template

    /// Small MRD-negative marrows (seeds 700…), hemodilution drawn 0–0.3 as in the matrix's normals.
    func normals(_ count: Int, events: Int = 80_000) throws -> [String] {
        try (0..<count).map { i in
            let path = directory.path("normal-\(i).fcs")
            var rng = RandomSource(seed: UInt64(700 + i), stream: 9)
            _ = try MarrowGenerator(MarrowSpecification(events: events, seed: UInt64(700 + i), hemodilution: (0.3 * rng.uniform() * 1000).rounded() / 1000)).write(fcsPath: path)
            return path
        }
    }

    func builder(_ template: GatingTemplate = ReferenceTests.template) -> ReferenceBuilder {
        ReferenceBuilder(analyzer: MRDAnalyzer(template: template, workers: 2), description: "test normals", synthetic: true)
    }

    @Test("percentiles interpolate between the files' values")
    func distribution() {
        let d = NormalReference.Distribution([5, 1, 4, 2, 3])
        #expect(d.values == [5, 1, 4, 2, 3] && d.p5 == 1.2 && d.p50 == 3 && d.p95 == 4.8)
    }

    @Test("the marrow-content score: mean log₁₀ ratio to the medians, a zero as half an event; the limit a t prediction limit")
    func marrowScore() throws {
        let rule = MarrowScoreRule(medians: ["a": 1, "b": 0.01], limit: -0.5)
        // log10(0.1/1) = −1, log10(0.01/0.01) = 0 → −0.5.
        #expect(try #require(rule.score(["a": 0.1, "b": 0.01], nucleated: 1_000_000)) == -0.5)
        // No event of b among 1,000,000 cells counts as half an event: 5e-5 %.
        let zero = try #require(rule.score(["a": 1, "b": 0], nucleated: 1_000_000))
        #expect(abs(zero - log10(5e-5 / 0.01) / 2) < 1e-12)
        #expect(rule.score(["c": 1], nucleated: 10) == nil)
        // Leave-one-out scores of five files, and mean − t₀.₉₉₉(4)·SD·√(1 + 1/5).
        let levels: [[String: Double]] = [["a": 1], ["a": 2], ["a": 4], ["a": 1], ["a": 2]]
        let score = NormalReference.MarrowScoreReference(levels: levels, nucleated: [Int](repeating: 1_000_000, count: 5))
        let expected = levels.indices.map { j -> Double in
            let others = levels.indices.filter { $0 != j }.map { levels[$0]["a"]! }.sorted()
            return log10(levels[j]["a"]! / ((others[1] + others[2]) / 2))
        }
        #expect(zip(score.values, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        let mean = expected.reduce(0, +) / 5, sd = (expected.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 4).squareRoot()
        #expect(abs(score.limit - (mean - 7.173 * sd * 1.2.squareRoot())) < 1e-5)
    }

    @Test("the gates that read a marker: the bundled template's B-cell precursor and erythroblast indicators read CD38")
    func maskedIndicators() {
        let reading = Self.template.gatesReading("CD38")
        let indicators = Set(Self.template.qc.indicators.map(\.gate))
        #expect(indicators.intersection(reading) == ["b-cell-precursors", "erythroblasts"])
        #expect(!reading.contains("mast-cells") && !reading.contains("myeloid-precursors"))
    }

    @Test("distance: Mahalanobis under the nearest subset's covariance, per marker in its standard deviations")
    func distance() throws {
        let share = NormalReference.Distribution([0.5])
        let subsets = [NormalReference.Subset(centroid: [0, 0], covariance: [4, 0, 0, 1], share: share, kappaLambda: nil, events: 10),
                       NormalReference.Subset(centroid: [10, 10], covariance: [1, 0, 0, 1], share: share, kappaLambda: nil, events: 10)]
        let reference = NormalReference(synthetic: true, description: "", software: "", template: .init(name: "t", version: "1", sha256: ""),
                                        files: [], hemodilution: [:], marrowScore: .init(levels: [], nucleated: []),
                                        plasmaCells: .init(markers: ["A", "B"], subsets: subsets, medians: [:], kappaLambda: share), populations: [:])
        let near = try #require(reference.distance(of: [2, 1]))
        #expect(near.nearestSubset == 0 && abs(near.overall - 2.0.squareRoot()) < 1e-5 && near.markers == ["A": 1, "B": 1])
        let far = try #require(reference.distance(of: [9, 10]))
        #expect(far.nearestSubset == 1 && abs(far.overall - 1) < 1e-5 && far.markers == ["A": -1, "B": 0])
    }

    @Test("built from normal marrows: identical bytes twice, loads back, limits are the indicators' 5th percentiles")
    func build() throws {
        let paths = try normals(5)
        let output = directory.path("lab.reference")
        let reference = try builder().build(paths: paths, output: output)
        let again = try builder().build(paths: paths, output: output)
        #expect(try reference.encoded() == again.encoded())
        #expect(reference.files.map(\.name) == (0..<5).map { "normal-\($0).fcs" } && reference.synthetic)
        #expect(reference.template.sha256 == Self.template.checksum && !reference.plasmaCells.subsets.isEmpty)
        // Each file's indicator level is what analyze reports for it; the limit is their 5th percentile.
        let first = try MRDAnalyzer(template: Self.template, workers: 2).analyze(path: paths[0])
        for indicator in first.qc.hemodilution {
            let levels = try #require(reference.hemodilution[indicator.gate])
            #expect(levels.values.count == 5 && levels.values[0] == round6(indicator.percentOfNucleated))
            #expect(reference.hemodilutionLimits[indicator.gate] == NormalReference.Distribution(levels.values).p5)
        }
        // The populations behind hemodilution and masking: each indicator and the lymphocytes (CD38 shows masking).
        #expect(Set(reference.populations.keys) == Set(Self.template.referencePopulations) && reference.populations["lymphocytes"] != nil)
        for (gate, population) in reference.populations {
            #expect(population.markers == Self.template.mrd.phenotypeMarkers && population.centroid.count == 8 && population.covariance.count == 64)
            #expect(population.share.values.count == 5 && population.means["CD38"]?.values.count ?? 0 >= 1, "\(gate)")
            if let levels = reference.hemodilution[gate] { #expect(population.share.values == levels.values) }
        }
        // Every subset's shares are of each file's normal plasma cells.
        for subset in reference.plasmaCells.subsets { #expect(subset.share.values.count == 5 && subset.share.values.allSatisfy { (0...1).contains($0) }) }
        try reference.encoded().write(to: URL(fileURLWithPath: output))
        #expect(try NormalReference.load(path: output, template: Self.template) == reference)
    }

    @Test("refused: too few files, a positive marrow, an edited file, another template — each with its reason")
    func refusals() throws {
        let paths = try normals(5)
        let output = directory.path("lab.reference")
        #expect(throws: MRDError.reference(file: output, detail: "needs at least 5 normal marrows (given 4); a lab should use 10–20")) {
            _ = try builder().build(paths: Array(paths.prefix(4)), output: output)
        }
        let positive = directory.path("positive.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 80_000, aberrantFraction: 0.01, seed: 71)).write(fcsPath: positive)
        do {
            _ = try builder().build(paths: Array(paths.prefix(4)) + [positive], output: output)
            Issue.record("a positive marrow was accepted")
        } catch {
            #expect(error.description.hasPrefix("normal reference \(output) cannot be built from \(positive): it is called MRD positive"), "\(error)")
        }
        // A marrow that fails QC (here too few nucleated cells) cannot be negative, so it is refused as not evaluable, with the reason.
        let small = directory.path("small.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 10_000, seed: 72)).write(fcsPath: small)
        do {
            _ = try builder().build(paths: [small] + Array(paths.prefix(4)), output: output)
            Issue.record("a marrow failing QC was accepted")
        } catch {
            #expect(error.description.hasPrefix("normal reference \(output) cannot be built from \(small): it is not evaluable (too few nucleated cells:"), "\(error)")
        }
        let reference = try builder().build(paths: paths, output: output)
        let text = String(decoding: try reference.encoded(), as: UTF8.self)
        try text.replacingOccurrences(of: "\"description\" : \"test normals\"", with: "\"description\" : \"edited\"").write(toFile: output, atomically: true, encoding: .utf8)
        #expect(throws: MRDError.reference(file: output, detail: "fails its checksum (content_sha256): it was edited or damaged after it was built")) {
            _ = try NormalReference.load(path: output, template: Self.template)
        }
        try text.write(toFile: output, atomically: true, encoding: .utf8)
        let other = try GatingTemplate(yaml: try SmallSampleTemplate.text().replacingOccurrences(of: "margin: 0.1", with: "margin: 0.12"), path: "other.yaml")
        do {
            _ = try NormalReference.load(path: output, template: other)
            Issue.record("a reference of another template was accepted")
        } catch {
            #expect(error.description.contains("was built with template legend2-10color") && error.description.contains("build one with this template"), "\(error)")
        }
    }

    @Test("after CAR-T, with no normal plasma cell and no template medians, the reference's subsets make the clone distinct")
    func postCART() throws {
        let text = try SmallSampleTemplate.text().components(separatedBy: "\n")
            .filter { !$0.contains("normal_medians:") && !$0.contains("masking: {marker: CD38") }.joined(separator: "\n")
        let bare = try GatingTemplate(yaml: text, path: "no-medians.yaml")
        #expect(bare.mrd.normalMedians.isEmpty)
        let reference = try builder(bare).build(paths: try normals(5), output: directory.path("lab.reference"))
        let path = directory.path("car-t.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 80_000, aberrantCount: 300, seed: 91, postCART: true)).write(fcsPath: path)
        var analyzer = MRDAnalyzer(template: bare, workers: 2)
        analyzer.context = [.postCART]
        let without = try analyzer.analyze(path: path)
        #expect(without.clonality?.phenotypeReference == "none" && without.call != .positive, "\(without.callText)")
        #expect(without.clonality?.clusters.contains { $0.role == .monotypic } == true)
        try analyzer.use(reference: reference, file: "lab.reference")
        let with = try analyzer.analyze(path: path)
        #expect(with.clonality?.phenotypeReference == "reference" && with.call == .positive, "\(with.callText)")
        let clone = try #require(with.clonality?.clusters.first { $0.role == .mrd })
        let distance = try #require(clone.referenceDistance)
        #expect(NormalReference.isDistinct(distance) && !clone.departures.isEmpty)
        #expect(with.warnings.contains { $0.contains("judged by each cluster's distance to the normal reference's subsets") })
    }

    @Test("with a reference, anti-CD38 masking is judged against the reference's plasma-cell CD38 and CD138 medians")
    func masking() throws {
        let reference = try builder().build(paths: try normals(5), output: directory.path("lab.reference"))
        let masked = directory.path("masked.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 80_000, seed: 93, antiCD38: true)).write(fcsPath: masked)
        var analyzer = MRDAnalyzer(template: Self.template, workers: 2)
        try analyzer.use(reference: reference, file: "lab.reference")
        #expect(analyzer.maskingLevel("CD38") == reference.plasmaCells.medians["CD38"]!.p50)
        #expect(analyzer.maskingLevel("CD38") != Self.template.mrd.normalMedians["CD38"])
        let result = try analyzer.analyze(path: masked)
        #expect(result.clonality?.masking == "detected", "\(result.warnings)")
        let level = String(describing: reference.plasmaCells.medians["CD38"]!.p50)
        #expect(result.warnings.contains { $0.hasPrefix("anti-CD38 masking detected") && $0.contains("below the normal reference's median \(level)") }, "\(result.warnings)")
    }

    @Test("leave-one-out: each normal marrow against the reference of the other five is not called positive")
    func leaveOneOut() throws {
        let paths = try normals(6)
        let outcomes = try builder().leaveOneOut(paths: paths)
        #expect(outcomes.map(\.file) == paths)
        #expect(outcomes.allSatisfy { $0.result.call != .positive && $0.result.call != .positiveBelowLLOQ }, "\(outcomes.map { $0.result.callText })")
        #expect(outcomes.allSatisfy { $0.result.normalReference?.files == 5 && $0.result.normalReference?.file.hasPrefix("all but normal-") == true })
        #expect(throws: MRDError.reference(file: "leave-one-out", detail: "needs at least 6 normal marrows (given 5)")) {
            _ = try builder().leaveOneOut(paths: Array(paths.prefix(5)))
        }
    }

    @Test("a template can name its reference (relative to the template); a run's own reference replaces it")
    func namedByTemplate() throws {
        let templatePath = directory.path("lab.yaml")
        try (try SmallSampleTemplate.text() + "\nreference: lab.reference\n").write(toFile: templatePath, atomically: true, encoding: .utf8)
        let template = try GatingTemplate(path: templatePath)
        #expect(template.referencePath == directory.path("lab.reference"))
        let reference = try builder(template).build(paths: try normals(5), output: directory.path("lab.reference"))
        var analyzer = MRDAnalyzer(template: template, workers: 2)
        #expect(throws: MRDError.reference(file: directory.path("lab.reference"), detail: "cannot be read (no such file, or no permission)")) {
            try analyzer.useReference(nil)
        }
        try reference.encoded().write(to: URL(fileURLWithPath: directory.path("lab.reference")))
        try analyzer.useReference(nil)
        #expect(analyzer.referenceFile == directory.path("lab.reference") && analyzer.reference == reference)
        #expect(throws: MRDError.template(file: "x.yaml", line: 1, column: 12, detail: "reference must name a file (relative to the template)")) {
            _ = try GatingTemplate(yaml: "reference: \"\"\n" + (try SmallSampleTemplate.text()), path: "x.yaml")
        }
    }

    @Test("with a reference, a hemodiluted marrow the template's limits pass is not evaluable; clusters carry their distance")
    func hemodilution() throws {
        let paths = try normals(6)
        let reference = try builder().build(paths: paths, output: directory.path("lab.reference"))
        let diluted = directory.path("diluted.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 80_000, seed: 88, hemodilution: 0.95)).write(fcsPath: diluted)
        // Template limits at zero: nothing can flag the sample but the reference.
        let zero = Dictionary(uniqueKeysWithValues: Self.template.qc.indicators.map { ($0.gate, 0.0) })
        let plain = MRDAnalyzer(template: try Self.template.overridingQCLimits(zero), workers: 2)
        let without = try plain.analyze(path: diluted)
        #expect(without.call != .notEvaluable || !without.notEvaluableReasons.contains { $0.hasPrefix("hemodiluted") }, "\(without.callText)")
        #expect(!without.qc.hemodiluted)
        var judged = plain
        try judged.use(reference: reference, file: "lab.reference")
        let with = try judged.analyze(path: diluted)
        #expect(with.call == .notEvaluable && with.qc.hemodiluted && with.notEvaluableReasons.contains { $0.hasPrefix("hemodiluted") }, "\(with.callText) \(String(describing: with.qc.marrowScore)) \(reference.marrowScore)")
        #expect(with.qc.hemodilution.map(\.minPercent) == Self.template.qc.indicators.map { reference.hemodilutionLimits[$0.gate]! })
        #expect(with.normalReference == MRDResult.ReferenceUse(file: "lab.reference", contentSHA256: reference.contentSHA256, synthetic: true, files: 6, template: Self.template.name))
        #expect(with.clonality?.clusters.allSatisfy { $0.referenceDistance != nil } == true)
        // A normal marrow left out of the reference is not flagged.
        let other = directory.path("other-normal.fcs")
        _ = try MarrowGenerator(MarrowSpecification(events: 80_000, seed: 777, hemodilution: 0.1)).write(fcsPath: other)
        let normal = try judged.analyze(path: other)
        #expect(!normal.qc.hemodiluted && normal.call == .negative, "\(normal.callText)")
    }
}

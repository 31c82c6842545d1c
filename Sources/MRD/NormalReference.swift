import Foundation

/// A normal-marrow reference (issue 16): what a lab's own normal and regenerating marrows look
/// like through one gating template — the normal plasma-cell subsets in the template's phenotype
/// markers, and the populations that show hemodilution and masking — built by ``ReferenceBuilder``
/// (`flowmrd reference build`) and used by `analyze --reference` (docs/reference.md).
///
/// The file is JSON with sorted keys; `content_sha256` is the SHA-256 of the document written
/// with that field empty, so an edited or damaged file is refused on reading. Same inputs give
/// identical bytes.
public struct NormalReference: Codable, Sendable, Equatable {
    public static let kind = "flowmrd-normal-reference"
    public static let formatVersion = 1

    public struct TemplateStamp: Codable, Sendable, Equatable {
        public let name: String
        public let version: String
        public let sha256: String
    }

    public struct SourceFile: Codable, Sendable, Equatable {
        public let name: String
        public let sha256: String
        public let nucleatedCells: Int
        public let normalPlasmaCells: Int
        enum CodingKeys: String, CodingKey { case name, sha256, nucleatedCells = "nucleated_cells", normalPlasmaCells = "normal_plasma_cells" }
    }

    /// A level across the reference files: each file's value (in file order) and its percentiles.
    public struct Distribution: Codable, Sendable, Equatable {
        public let values: [Double]
        public let p5: Double
        public let p50: Double
        public let p95: Double

        /// - Complexity: O(n log n).
        public init(_ values: [Double]) {
            self.values = values.map(round6)
            let sorted = values.sorted()
            func quantile(_ q: Double) -> Double {
                guard !sorted.isEmpty else { return .nan }
                let h = q * Double(sorted.count - 1), lo = Int(h.rounded(.down)), hi = min(sorted.count - 1, lo + 1)
                return round6(sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo]))
            }
            p5 = quantile(0.05)
            p50 = quantile(0.5)
            p95 = quantile(0.95)
        }
    }

    /// One normal plasma-cell subset: where it sits and how it spreads in the phenotype markers,
    /// its share of each file's normal plasma cells and its κ:λ.
    public struct Subset: Codable, Sendable, Equatable {
        /// Mean per phenotype marker (transformed units), in ``PlasmaCellReference/markers`` order.
        public let centroid: [Double]
        /// Covariance, row-major, markers × markers.
        public let covariance: [Double]
        /// Share of the normal plasma cells of each file (0–1), and their range.
        public let share: Distribution
        /// κ:λ of the subset's events in each file where it has both chains.
        public let kappaLambda: Distribution?
        /// Events it was described from (pooled over the files).
        public let events: Int
        enum CodingKeys: String, CodingKey { case centroid, covariance, share, events, kappaLambda = "kappa_lambda" }
    }

    public struct PlasmaCellReference: Codable, Sendable, Equatable {
        public let markers: [String]
        public let subsets: [Subset]
        /// Median level of each phenotype marker on each file's normal plasma cells (masking is judged against CD38's and CD138's).
        public let medians: [String: Distribution]
        /// κ:λ of each file's normal plasma cells.
        public let kappaLambda: Distribution
        enum CodingKeys: String, CodingKey { case markers, subsets, medians, kappaLambda = "kappa_lambda" }
    }

    /// A population behind the hemodilution and masking checks (an indicator, or a population a
    /// data-driven gate is placed on, such as lymphocytes): where it sits in the phenotype markers
    /// (from each file's gating subsample) and its share of nucleated cells.
    public struct PopulationReference: Codable, Sendable, Equatable {
        public let markers: [String]
        /// Mean over the files of each file's mean.
        public let centroid: [Double]
        /// Mean within-file covariance plus the covariance of the file means (row-major).
        public let covariance: [Double]
        /// Each file's mean per marker (CD38 of the lymphocytes shows masking).
        public let means: [String: Distribution]
        /// % of nucleated cells per file.
        public let share: Distribution
        /// Subsample events it was described from, over all files.
        public let events: Int
    }

    public var kind = NormalReference.kind
    public var formatVersion = NormalReference.formatVersion
    /// True for a reference built from the synthetic generator's marrows (the bundled default): not a lab's own.
    public let synthetic: Bool
    public let description: String
    public let software: String
    public let template: TemplateStamp
    public let files: [SourceFile]
    /// % of nucleated cells of each hemodilution indicator of the template, by gate id.
    public let hemodilution: [String: Distribution]
    /// The marrow-content score of each reference file against the others' medians (leave-one-out), and the limit drawn from them.
    public let marrowScore: MarrowScoreReference
    public let plasmaCells: PlasmaCellReference
    /// By gate id (``GatingTemplate/referencePopulations``).
    public let populations: [String: PopulationReference]
    public var contentSHA256 = ""

    enum CodingKeys: String, CodingKey {
        case kind, synthetic, description, software, template, files, hemodilution, populations, marrowScore = "marrow_score"
        case formatVersion = "format_version", plasmaCells = "plasma_cells", contentSHA256 = "content_sha256"
    }

    /// Fewest files a reference is built from: below it the 5th percentile is no more than the smallest value.
    public static let minimumFiles = 5

    /// The document's bytes, with its checksum.
    /// - Complexity: O(document size).
    public func encoded() throws -> Data {
        var copy = self
        copy.contentSHA256 = ""
        copy.contentSHA256 = SHA256.hex(Array(try Self.encoder.encode(copy)))
        return try Self.encoder.encode(copy) + Data("\n".utf8)
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Reads and checks a reference file: its kind, format version and checksum, and that it was
    /// built with `template` (same SHA-256).
    ///
    /// - Throws: ``MRDError/reference(file:detail:)`` naming the file and what is wrong.
    public static func load(path: String, template: GatingTemplate) throws(MRDError) -> NormalReference {
        guard let data = FileManager.default.contents(atPath: path) else { throw .reference(file: path, detail: "cannot be read (no such file, or no permission)") }
        guard data.count <= 64 << 20 else { throw .reference(file: path, detail: "is \(data.count) bytes, larger than a reference can be (64 MiB)") }
        let reference: NormalReference
        do { reference = try JSONDecoder().decode(NormalReference.self, from: data) } catch {
            throw .reference(file: path, detail: "is not a FlowMRD normal reference (\(Self.describe(error)))")
        }
        guard reference.kind == kind else { throw .reference(file: path, detail: "has kind \"\(reference.kind)\", expected \"\(kind)\"") }
        guard reference.formatVersion == formatVersion else {
            throw .reference(file: path, detail: "has format version \(reference.formatVersion); this FlowMRD reads version \(formatVersion)")
        }
        let expected: String
        do { expected = String(decoding: try reference.encoded(), as: UTF8.self) } catch { throw .reference(file: path, detail: "cannot be re-encoded: \(error)") }
        guard let stored = try? JSONDecoder().decode(NormalReference.self, from: Data(expected.utf8)), stored.contentSHA256 == reference.contentSHA256 else {
            throw .reference(file: path, detail: "fails its checksum (content_sha256): it was edited or damaged after it was built")
        }
        guard reference.template.sha256 == template.checksum else {
            throw .reference(file: path, detail: "was built with template \(reference.template.name) \(reference.template.version) (SHA-256 \(reference.template.sha256.prefix(12))…), not with \(template.name) \(template.version) (\(template.checksum.prefix(12))…); build one with this template")
        }
        let d = reference.plasmaCells.markers.count
        for (i, subset) in reference.plasmaCells.subsets.enumerated() where subset.centroid.count != d || subset.covariance.count != d * d {
            throw .reference(file: path, detail: "plasma-cell subset \(i + 1) has \(subset.centroid.count) centroid values and \(subset.covariance.count) covariance values for \(d) markers")
        }
        return reference
    }

    /// Lower hemodilution limits from the reference: each indicator's 5th percentile.
    public var hemodilutionLimits: [String: Double] { hemodilution.mapValues(\.p5) }

    /// The hemodilution rule a sample is judged by: the score against the indicators' medians.
    public var marrowScoreRule: MarrowScoreRule { MarrowScoreRule(medians: hemodilution.mapValues(\.p50), limit: marrowScore.limit) }

    /// The marrow-content scores of the reference's own files (``MarrowScoreRule``).
    public struct MarrowScoreReference: Codable, Sendable, Equatable {
        /// Each file's score against the medians of the other files, decades.
        public let values: [Double]
        public let mean: Double
        public let sd: Double
        /// The one-sided 99.9% prediction limit of a new normal marrow's score from these files:
        /// mean − t₀.₉₉₉(n−1) × SD × √(1 + 1/n), so a reference of few files gets a wider limit. A
        /// flag makes the sample not evaluable (a new aspirate), so the limit is set for gross
        /// dilution rather than the spread of normal marrows.
        public let limit: Double

        /// - Parameter levels: per file, % of nucleated cells by indicator gate; `nucleated` its cells.
        /// - Complexity: O(files² × indicators).
        init(levels: [[String: Double]], nucleated: [Int]) {
            var values: [Double] = []
            for j in levels.indices {
                var medians: [String: Double] = [:]
                for gate in levels[j].keys {
                    let others = levels.indices.filter { $0 != j }.compactMap { levels[$0][gate] }
                    medians[gate] = NormalReference.Distribution(others).p50
                }
                if let s = MarrowScoreRule(medians: medians, limit: 0).score(levels[j], nucleated: nucleated[j]) { values.append(s) }
            }
            let mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
            let sd = values.count > 1 ? (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot() : 0
            self.values = values.map(round6)
            self.mean = round6(mean)
            self.sd = round6(sd)
            let n = Double(values.count)
            limit = values.count > 1 ? round6(mean - Self.t999(values.count - 1) * sd * (1 + 1 / n).squareRoot()) : -.greatestFiniteMagnitude
        }

        /// Student's t 0.999 quantile for `df` degrees of freedom (table to 30, then 3.090 + 8.5/df).
        static func t999(_ df: Int) -> Double {
            let table: [Double] = [318.31, 22.327, 10.215, 7.173, 5.893, 5.208, 4.785, 4.501, 4.297, 4.144, 4.025, 3.930, 3.852, 3.787, 3.733,
                                   3.686, 3.646, 3.610, 3.579, 3.552, 3.527, 3.505, 3.485, 3.467, 3.450, 3.435, 3.421, 3.408, 3.396, 3.385]
            return df >= 1 && df <= table.count ? table[df - 1] : 3.090 + 8.5 / Double(max(1, df))
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        default: return "\(error)"
        }
    }
}

/// A written description of an aberrant plasma-cell clone, such as `CD19-,CD56++,CD45-,CD27dim`.
///
/// Each term is a marker name (``Marker/name``, case-insensitive) followed by a level, written
/// relative to the majority phenotype of normal plasma cells (CD19+ CD45+ CD56− CD27 bright
/// CD81+ CD38 bright CD138+ CD117−):
/// - `-` negative (autofluorescence);
/// - `dim`: a marker normal plasma cells express, shifted down by the clone shift (drawn per
///   file from 0.5–1.3 decades unless `--clone-shift` fixes it); one they lack, a dim level;
/// - `+`: a marker normal plasma cells lack, a positive level; one they express, the normal level;
/// - `++`: bright (a lacking marker) or shifted up by the clone shift (an expressed one);
/// - `=`: the normal level;
/// - `@-0.3` or `@+0.4`: an explicit shift in decades from the normal level, for a marker that
///   normal plasma cells express (a clone that differs from normal by a small margin).
///
/// Markers not named keep the normal level, so `CD56+` is a clone whose single aberrancy is
/// CD56 gain, and `CD27dim,CD45dim` is a CD19+ clone. The light chain is set by the clone's
/// ``LightChain``; naming kappa or lambda is an error. The word `random` draws the aberrancies
/// per file from their published frequencies in myeloma (domain primer, table of aberrant
/// phenotypes), with at least one.
public struct AberrantPhenotype: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Level: Sendable, Equatable, CustomStringConvertible {
        case negative, dim, positive, bright, normal
        /// Decades from the normal level.
        case shift(Double)

        public var description: String {
            switch self {
            case .negative: return "-"
            case .dim: return "dim"
            case .positive: return "+"
            case .bright: return "++"
            case .normal: return "="
            case .shift(let d): return d >= 0 ? "@+\(d)" : "@\(d)"
            }
        }
    }

    /// The levels named, in the order written (empty when ``isRandom``).
    public let levels: [(marker: Marker, level: Level)]
    /// The aberrancies are drawn per file (`random`).
    public let isRandom: Bool

    public static func == (a: AberrantPhenotype, b: AberrantPhenotype) -> Bool {
        a.isRandom == b.isRandom && a.levels.map(\.marker) == b.levels.map(\.marker) && a.levels.map(\.level) == b.levels.map(\.level)
    }

    /// The default clone of the generator: CD19− CD56++ CD45− CD27 dim CD81 dim CD38 dim.
    public static let standard = try! AberrantPhenotype("CD19-,CD56++,CD45-,CD27dim,CD81dim,CD38dim")

    /// Aberrancies drawn per file from their frequencies in myeloma.
    public static let random = try! AberrantPhenotype("random")

    /// Named examples for help texts: each single aberrancy, a CD19+ clone, a small-margin clone.
    public static let examples: [(text: String, meaning: String)] = [
        ("CD19-", "CD19 loss only"), ("CD56+", "CD56 gain only"), ("CD117+", "CD117 gain only"),
        ("CD27-", "CD27 loss only"), ("CD81-", "CD81 loss only"), ("CD45-", "CD45 loss only"), ("CD38dim", "CD38 dimmer only"),
        ("CD27dim,CD45dim", "a CD19+ clone"), ("CD27@-0.3,CD81@-0.3", "a clone 0.3 decades from normal on two markers"),
        ("random", "aberrancies drawn from their frequencies in myeloma"),
    ]

    /// Markers a clone can carry an aberrancy on.
    static let phenotypeMarkers = Marker.allCases.filter { $0 != .kappa && $0 != .lambda }

    /// Parses a description; the error names the term that could not be read.
    public init(_ text: String) throws(SyntheticError) {
        if text.trimmingCharacters(in: .whitespaces).lowercased() == "random" {
            levels = []
            isRandom = true
            return
        }
        var levels: [(Marker, Level)] = []
        for raw in text.split(separator: ",") {
            let term = raw.trimmingCharacters(in: .whitespaces)
            let lower = term.lowercased()
            if lower.contains("kappa") || lower.contains("lambda") {
                throw .invalidPhenotype(term: term, reason: "the light chain is chosen with the clone's light chain, not in the phenotype")
            }
            guard let marker = Self.phenotypeMarkers
                .sorted(by: { $0.name.count > $1.name.count })
                .first(where: { lower.hasPrefix($0.name.lowercased()) }) else {
                throw .invalidPhenotype(term: term, reason: "unknown marker; expected one of CD45, CD38, CD138, CD19, CD56, CD117, CD81, CD27")
            }
            let suffix = String(term.dropFirst(marker.name.count)).trimmingCharacters(in: .whitespaces).lowercased()
            let level: Level
            switch suffix {
            case "-", "neg", "negative": level = .negative
            case "dim", "lo", "low": level = .dim
            case "+", "pos", "positive": level = .positive
            case "++", "bright", "hi", "high": level = .bright
            case "=", "normal": level = .normal
            default:
                guard suffix.hasPrefix("@"), let d = Double(suffix.dropFirst()), d.isFinite, abs(d) <= 3 else {
                    throw .invalidPhenotype(term: term, reason: "unknown level \"\(suffix)\"; expected -, dim, +, ++, = or a shift such as @-0.3")
                }
                guard !MarrowModel.normalLacks(marker) else {
                    throw .invalidPhenotype(term: term, reason: "normal plasma cells lack \(marker.name), so a shift from their level means nothing; use dim, + or ++")
                }
                level = .shift(d)
            }
            if levels.contains(where: { $0.0 == marker }) { throw .invalidPhenotype(term: term, reason: "\(marker.name) is named twice") }
            levels.append((marker, level))
        }
        guard !levels.isEmpty else { throw .invalidPhenotype(term: text, reason: "no marker named") }
        self.levels = levels
        self.isRandom = false
    }

    public var description: String {
        isRandom ? "random" : levels.map { $0.marker.name + $0.level.description }.joined(separator: ",")
    }

    /// The markers on which the clone departs from the normal level.
    public var aberrantMarkers: [Marker] {
        levels.filter { entry in
            switch entry.level {
            case .normal: return false
            case .positive: return MarrowModel.normalLacks(entry.marker)
            case .shift(let d): return d != 0
            default: return true
            }
        }.map(\.marker)
    }

    /// Published frequency of each aberrancy in myeloma (domain primer table; midpoints of the ranges).
    static let aberrancyFrequencies: [(marker: Marker, frequency: Double, levels: [Level])] = [
        (.cd19, 0.95, [.negative]), (.cd56, 0.70, [.positive, .bright]), (.cd117, 0.20, [.positive]),
        (.cd27, 0.30, [.dim, .negative]), (.cd81, 0.50, [.dim, .negative]), (.cd45, 0.80, [.dim, .negative]), (.cd38, 0.60, [.dim]),
    ]

    /// A concrete phenotype: this one, or for `random` aberrancies drawn from their frequencies (at least one).
    func resolved(_ rng: inout RandomSource) -> AberrantPhenotype {
        guard isRandom else { return self }
        while true {
            var terms: [(Marker, Level)] = []
            for entry in Self.aberrancyFrequencies where rng.uniform() < entry.frequency {
                terms.append((entry.marker, entry.levels[Int(rng.next() % UInt64(entry.levels.count))]))
            }
            if !terms.isEmpty { return AberrantPhenotype(levels: terms) }
        }
    }

    private init(levels: [(Marker, Level)]) {
        self.levels = levels
        self.isRandom = false
    }

    enum CodingKeys: CodingKey { case text }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(try container.decode(String.self, forKey: .text))
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(description, forKey: .text)
    }
}

/// Errors of the synthetic-data layer.
public enum SyntheticError: Error, Equatable, CustomStringConvertible {
    case invalidPhenotype(term: String, reason: String)
    case invalidFault(text: String, reason: String)
    /// An option of the specification out of its range, or two options that contradict each other.
    case invalidSpecification(String)
    /// A file or folder the generator needed could not be made.
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case .invalidPhenotype(let term, let reason): return "invalid aberrant phenotype term \"\(term)\": \(reason)"
        case .invalidFault(let text, let reason): return "invalid technical fault \"\(text)\": \(reason)"
        case .invalidSpecification(let text): return text
        case .io(let path, let detail): return "\(path): \(detail)"
        }
    }
}

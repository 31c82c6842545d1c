/// A written description of an aberrant plasma-cell clone, such as `CD19-,CD56++,CD45-,CD27dim`,
/// turned into a ``Phenotype``.
///
/// Each term is a marker name (as in ``Marker/name``, case-insensitive, `Kappa`/`Lambda` accepted)
/// followed by a level: `-` negative, `dim`, `+` positive, `++` bright, or `=` the normal
/// plasma-cell level. Markers not named keep the normal plasma-cell level, so
/// `CD19-,CD117+` is a clone whose only aberrancies are CD19 loss and CD117 gain. For CD38,
/// `dim` means dimmer than normal plasma cells but still positive (the usual myeloma pattern).
/// The light chain is set by the clone's ``LightChain``; naming kappa or lambda is an error.
public struct AberrantPhenotype: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Level: String, Sendable, Codable, CaseIterable {
        case negative = "-", dim, positive = "+", bright = "++", normal = "="
    }

    /// The levels named, in the order written.
    public let levels: [(marker: Marker, level: Level)]

    public static func == (a: AberrantPhenotype, b: AberrantPhenotype) -> Bool {
        a.levels.map(\.marker) == b.levels.map(\.marker) && a.levels.map(\.level) == b.levels.map(\.level)
    }

    /// The default clone of the generator: CD19− CD56++ CD45− CD27 dim CD81 dim CD38 dim.
    public static let standard = try! AberrantPhenotype("CD19-,CD56++,CD45-,CD27dim,CD81dim,CD38dim")

    /// Parses a description; the error names the term that could not be read.
    public init(_ text: String) throws(SyntheticError) {
        var levels: [(Marker, Level)] = []
        for raw in text.split(separator: ",") {
            let term = raw.trimmingCharacters(in: .whitespaces)
            let lower = term.lowercased()
            if lower.contains("kappa") || lower.contains("lambda") {
                throw .invalidPhenotype(term: term, reason: "the light chain is chosen with the clone's light chain, not in the phenotype")
            }
            guard let marker = Marker.allCases.filter({ $0 != .kappa && $0 != .lambda })
                .sorted(by: { $0.name.count > $1.name.count })
                .first(where: { lower.hasPrefix($0.name.lowercased()) }) else {
                throw .invalidPhenotype(term: term, reason: "unknown marker; expected one of CD45, CD38, CD138, CD19, CD56, CD117, CD81, CD27")
            }
            let prefixLength = marker.name.count
            let suffix = String(term.dropFirst(prefixLength)).trimmingCharacters(in: .whitespaces).lowercased()
            let level: Level
            switch suffix {
            case "-", "neg", "negative": level = .negative
            case "dim", "lo", "low": level = .dim
            case "+", "pos", "positive": level = .positive
            case "++", "bright", "hi", "high": level = .bright
            case "=", "normal": level = .normal
            default: throw .invalidPhenotype(term: term, reason: "unknown level \"\(suffix)\"; expected -, dim, +, ++ or =")
            }
            if levels.contains(where: { $0.0 == marker }) { throw .invalidPhenotype(term: term, reason: "\(marker.name) is named twice") }
            levels.append((marker, level))
        }
        guard !levels.isEmpty else { throw .invalidPhenotype(term: text, reason: "no marker named") }
        self.levels = levels
    }

    public var description: String { levels.map { $0.marker.name + $0.level.rawValue }.joined(separator: ",") }

    /// The phenotype: normal plasma-cell scatter and levels, changed as described, one light chain bright.
    public func phenotype(normal: Phenotype, lightChain: LightChain) -> Phenotype {
        var result = normal
        result.forwardScatter = ExpressionLevel(90_000, spread: 0.06)
        result.sideScatter = ExpressionLevel(45_000, spread: 0.1)
        for (marker, level) in levels {
            switch level {
            case .negative: result[marker] = .negative
            case .dim: result[marker] = marker == .cd38 ? ExpressionLevel(20_000, spread: 0.15) : .dim(1_000)
            case .positive: result[marker] = marker == .cd38 ? ExpressionLevel(90_000, spread: 0.15) : .positive(8_000)
            case .bright: result[marker] = marker == .cd38 ? ExpressionLevel(150_000, spread: 0.12) : .bright(40_000)
            case .normal: break
            }
        }
        result[.kappa] = chainLevel(lightChain == .kappa)
        result[.lambda] = chainLevel(lightChain == .lambda)
        return result
    }

    private func chainLevel(_ expressed: Bool) -> ExpressionLevel { expressed ? .bright(50_000) : .negative }

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
    /// A file or folder the generator needed could not be made.
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case .invalidPhenotype(let term, let reason): return "invalid aberrant phenotype term \"\(term)\": \(reason)"
        case .io(let path, let detail): return "\(path): \(detail)"
        }
    }
}

/// A technical fault written into a synthetic file: what a broken detector, a bad export or a
/// wrongly typed stain label does to a real acquisition. A file with a fault cannot support a
/// negative call; its truth says so.
public enum TechnicalFault: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The detector of this marker reads exactly 0 for every event.
    case deadChannel(Marker)
    /// This fraction of events (1 = all) read NaN on this marker's detector.
    case nonFinite(Marker, fraction: Double)
    /// The channel carrying this marker is labelled `label` in $PnS.
    case stainLabel(Marker, label: String)

    /// Parses `dead:CD38`, `nan:CD19`, `nan:CD19:0.01` or `stain:CD38=CD3`.
    public init(_ text: String) throws(SyntheticError) {
        let parts = text.split(separator: ":", maxSplits: 2).map { String($0).trimmingCharacters(in: .whitespaces) }
        func marker(_ name: String) throws(SyntheticError) -> Marker {
            guard let m = Marker(name: name) else {
                throw .invalidFault(text: text, reason: "unknown marker \"\(name)\"; expected one of \(Marker.allCases.map(\.name).joined(separator: ", "))")
            }
            return m
        }
        switch (parts.first?.lowercased(), parts.count) {
        case ("dead", 2):
            self = .deadChannel(try marker(parts[1]))
        case ("nan", 2):
            self = .nonFinite(try marker(parts[1]), fraction: 1)
        case ("nan", 3):
            guard let f = Double(parts[2]), f > 0, f <= 1 else {
                throw .invalidFault(text: text, reason: "the fraction must be a number in (0, 1]")
            }
            self = .nonFinite(try marker(parts[1]), fraction: f)
        case ("stain", 2):
            let pair = parts[1].split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[1].isEmpty else { throw .invalidFault(text: text, reason: "expected stain:MARKER=LABEL") }
            self = .stainLabel(try marker(pair[0]), label: pair[1])
        default:
            throw .invalidFault(text: text, reason: "expected dead:MARKER, nan:MARKER[:FRACTION] or stain:MARKER=LABEL")
        }
    }

    public var marker: Marker {
        switch self {
        case .deadChannel(let m), .nonFinite(let m, _), .stainLabel(let m, _): return m
        }
    }

    public var description: String {
        switch self {
        case .deadChannel(let m): return "dead:\(m.name)"
        case .nonFinite(let m, let f): return f == 1 ? "nan:\(m.name)" : "nan:\(m.name):\(f)"
        case .stainLabel(let m, let label): return "stain:\(m.name)=\(label)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try TechnicalFault(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Marker {
    /// The marker called `name` (case-insensitive; `kappa`/`lambda` accepted for the light chains).
    public init?(name: String) {
        let lower = name.lowercased()
        guard let m = Marker.allCases.first(where: { $0.name.lowercased() == lower || $0.name.lowercased() == "cy" + lower }) else { return nil }
        self = m
    }
}

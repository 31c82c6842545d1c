/// A typed error from compensation, transforms, gates, Gating-ML import or evaluation.
public enum CytometryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A spillover or spectrum matrix that cannot be used (singular, mis-sized, unknown channel).
    case invalidMatrix(String)
    /// Transform parameters outside their domain.
    case invalidTransform(String)
    /// A gate that is malformed (too few vertices, unknown reference, cycle…).
    case invalidGate(id: String, detail: String)
    /// A channel named by a gate or matrix is not in the data.
    case missingChannel(name: String, available: [String])
    /// A Gating-ML document that cannot be read: file, line and what was expected.
    case gatingML(file: String, line: Int, detail: String)
    /// A Gating-ML construct this implementation does not support.
    case unsupportedGatingML(file: String, line: Int, element: String)
    /// A FlowJo workspace that cannot be read or applied: file, line and what was expected
    /// (an unsupported gate, transform or derived parameter included).
    case flowJo(file: String, line: Int, detail: String)

    public var description: String {
        switch self {
        case .invalidMatrix(let detail): return "invalid compensation matrix: \(detail)"
        case .invalidTransform(let detail): return "invalid transform: \(detail)"
        case .invalidGate(let id, let detail): return "gate \"\(id)\": \(detail)"
        case .missingChannel(let name, let available):
            return "channel \"\(name)\" is not in the data; it has: \(available.joined(separator: ", "))"
        case .gatingML(let file, let line, let detail): return "\(file):\(line): \(detail)"
        case .unsupportedGatingML(let file, let line, let element):
            return "\(file):\(line): unsupported Gating-ML element <\(element)>; the gate file cannot be applied faithfully"
        case .flowJo(let file, let line, let detail): return "\(file):\(line): \(detail)"
        }
    }
}

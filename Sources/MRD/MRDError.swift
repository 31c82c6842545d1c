import Cytometry
import FCS

/// A typed error of the MRD layer: each case names the file and the place.
public enum MRDError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A gating template that cannot be used: file, line and column (1-based), and what was expected.
    case template(file: String, line: Int, column: Int, detail: String)
    /// `--template NAME` names no template that can be found.
    case templateNotFound(name: String, detail: String)
    /// A marker the template needs is not in the data file; lists what the file has.
    /// The template's panel cannot be found in the file: every marker missing (with the names
    /// looked for), every marker two channels claim, every channel two markers resolve to.
    case panel(file: String, problems: [PanelProblem], available: [String])
    /// A `--channel MARKER=CHANNEL` item that cannot be used.
    case channelAssignment(String)
    /// A normal reference that cannot be read, built or used.
    case reference(file: String, detail: String)
    /// The template asks for the file's compensation but the file carries no usable spillover matrix.
    case compensationUnavailable(file: String, detail: String)
    /// The data file cannot be read.
    case fcs(FCSError)
    /// Gates or transforms built from the template were rejected.
    case cytometry(file: String, CytometryError)
    /// The event file could not be read for another reason (an HDF5 store's error, an I/O failure).
    case input(file: String, detail: String)

    public var description: String {
        switch self {
        case .template(let file, let line, let column, let detail): return "\(file):\(line):\(column): \(detail)"
        case .templateNotFound(let name, let detail): return "gating template \"\(name)\" not found: \(detail)"
        case .panel(let file, let problems, let available):
            return "\(file): " + problems.map(\.description).joined(separator: "; ") + "; the file has: \(available.joined(separator: ", "))"
                + (problems.contains { if case .missing = $0 { true } else { false } } ? PanelProblem.howToMap : "")
        case .channelAssignment(let detail): return detail
        case .reference(let file, let detail): return "normal reference \(file) \(detail)"
        case .compensationUnavailable(let file, let detail): return "\(file): compensation: \(detail)"
        case .fcs(let error): return error.description
        case .cytometry(let file, let error): return "\(file): \(error)"
        case .input(let file, let detail): return detail.hasPrefix(file) ? detail : "\(file): \(detail)"
        }
    }

    /// An error from reading or evaluating a file, as an MRD error (FCS and gating errors keep their type).
    static func wrapping(_ error: any Error, file: String) -> MRDError {
        switch error {
        case let error as MRDError: return error
        case let error as FCSError: return .fcs(error)
        case let error as CytometryError: return .cytometry(file: file, error)
        default: return .input(file: file, detail: "\(error)")
        }
    }
}

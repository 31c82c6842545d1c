import Cytometry
import FCS

/// A typed error of the MRD layer: each case names the file and the place.
public enum MRDError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A gating template that cannot be used: file, line and column (1-based), and what was expected.
    case template(file: String, line: Int, column: Int, detail: String)
    /// A marker the template needs is not in the data file; lists what the file has.
    case missingMarker(file: String, marker: String, tried: [String], available: [String])
    /// Two markers of the template resolved to the same channel.
    case ambiguousMarker(file: String, marker: String, channel: String, alreadyUsedBy: String)
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
        case .missingMarker(let file, let marker, let tried, let available):
            return "\(file): marker \"\(marker)\" not found (looked for $PnS or $PnN \(tried.map { "\"\($0)\"" }.joined(separator: ", "))); the file has: \(available.joined(separator: ", "))"
        case .ambiguousMarker(let file, let marker, let channel, let other):
            return "\(file): marker \"\(marker)\" resolves to channel \(channel), which is already used for \"\(other)\""
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

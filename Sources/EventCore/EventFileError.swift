/// An error of the format-neutral layer: a file of a kind this build cannot open, or a data set
/// that is not there. Format readers throw their own errors (`FCSError`, `HDF5Error`).
public struct EventFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// The caller asked for a data set the file does not have.
        case noSuchDataSet(index: Int, count: Int)
        /// The file's content says it is of a kind no opener was given for.
        case kindNotSupported(kind: EventFileKind, supported: [EventFileKind])
    }

    /// The file, as given.
    public let file: String
    public let reason: Reason

    public init(file: String, _ reason: Reason) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reasonDescription)" }

    /// The message without the file name.
    public var reasonDescription: String {
        switch reason {
        case .noSuchDataSet(let index, let count):
            return "data set \(index) requested but the file has \(count) (indices 0-\(count - 1))"
        case .kindNotSupported(let kind, let supported):
            return "this is \(kind.description) (told from its content); this analysis opens only \(supported.map { "\($0.rawValue) files" }.joined(separator: " and "))"
        }
    }
}

extension EventFileError: FileError {}

/// An error about one file that can say what is wrong without naming the file (for messages that
/// name it already). The format readers' errors conform.
public protocol FileError: Error, CustomStringConvertible {
    /// The file, as given.
    var file: String { get }
    /// The message without the file name.
    var reasonDescription: String { get }
}

extension Error {
    /// The message without the file name when the error is a ``FileError``, else the whole message.
    public var reasonWithoutFileName: String { (self as? any FileError)?.reasonDescription ?? "\(self)" }
}

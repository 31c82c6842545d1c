/// A repair or irregularity found while reading a file.
///
/// The reader never repairs silently: every deviation from the standard that it
/// works around (an off-by-one data end, a HEADER/TEXT disagreement, an empty
/// keyword value, an ignored $PnE on float data) is recorded as a warning with
/// the keyword or byte offset involved. Reports show these to the user.
public struct ReadWarning: Equatable, Hashable, Sendable, CustomStringConvertible, Codable {
    /// A stable identifier of the kind of warning, for machines and tests.
    public enum Code: String, Sendable, Codable, CaseIterable {
        case dataOffsetDisagreement = "data-offset-disagreement"
        case dataOffsetRejected = "data-offset-rejected"
        case dataEndMismatch = "data-end-mismatch"
        case textRepaired = "text-repaired"
        case duplicateKeyword = "duplicate-keyword"
        case duplicateChannelName = "duplicate-channel-name"
        case missingTotal = "missing-tot"
        case storageWidth = "storage-width"
        case amplificationIgnored = "amplification-ignored"
        case gainIgnored = "gain-ignored"
        case rangeMissing = "range-missing"
        case timestepInvalid = "timestep-invalid"
        case spilloverIgnored = "spillover-ignored"
        case partialData = "partial-data"
        case headerVersion = "header-version"
        /// Values held as float32 that the source stored with more precision (an HDF5 store of a float64 or >24-bit integer FCS file).
        case valuesRounded = "values-rounded"
    }

    /// The kind of warning.
    public let code: Code
    /// A sentence naming the keyword or offset, both values where two disagree, and what was done.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "[\(code.rawValue)] \(message)" }
}

import EventCore

/// A typed error raised while reading or writing an FCS file.
///
/// Every error names the file it concerns and, through ``Reason``, the place
/// (keyword or byte offset) and what was expected there, so a user can find the
/// fault in the file without a debugger.
public struct FCSError: FileError, Equatable, Sendable {
    /// What went wrong, with the keyword or byte offset involved.
    public enum Reason: Equatable, Sendable {
        /// The file could not be opened, sized or read.
        case io(String)
        /// The file is shorter than the 58-byte HEADER.
        case fileTooShort(size: Int)
        /// Bytes 0–5 are not `FCSn.m`.
        case notFCS(found: String)
        /// The version is not one this reader implements (2.0, 3.0, 3.1, 3.2).
        case unsupportedVersion(String)
        /// A HEADER offset field is neither blank nor a non-negative integer.
        case badHeaderField(field: String, byteOffset: Int, found: String)
        /// A segment's bounds do not lie inside the file.
        case segmentOutsideFile(segment: String, begin: Int, end: Int, fileSize: Int)
        /// The TEXT segment is malformed at the given absolute byte offset.
        case malformedText(byteOffset: Int, detail: String)
        /// A required keyword is absent.
        case missingKeyword(String)
        /// A keyword's value does not have the expected form.
        case invalidKeyword(keyword: String, value: String, expected: String)
        /// The data cannot be located: no usable offset in HEADER or TEXT.
        case noDataOffsets(detail: String)
        /// The file ends before all the events that $TOT announces.
        case truncatedData(expectedEvents: Int, completeEvents: Int, dataBegin: Int, fileSize: Int)
        /// The DATA segment's length disagrees with $TOT × the bytes per event ($PAR, $PnB)
        /// by more than the one-byte end repair: the keywords lie about the data.
        case dataLengthMismatch(declaredBytes: Int, events: Int, bytesPerEvent: Int, dataBegin: Int)
        /// A spillover or compensation keyword is malformed.
        case malformedSpillover(keyword: String, detail: String)
        /// A $NEXTDATA chain points outside the file, backwards onto itself, or loops.
        case badNextData(dataSetOffset: Int, value: String, detail: String)
        /// The caller asked for a data set the file does not have.
        case noSuchDataSet(index: Int, count: Int)
        /// Writing failed.
        case write(String)
    }

    /// The path of the file concerned.
    public let file: String
    /// What went wrong.
    public let reason: Reason

    public init(file: String, _ reason: Reason) {
        self.file = file
        self.reason = reason
    }

    public var description: String {
        "\(file): \(reasonDescription)"
    }

    /// The message without the file name.
    public var reasonDescription: String {
        switch reason {
        case .io(let message):
            return message
        case .fileTooShort(let size):
            return "file is \(size) bytes; an FCS file needs at least the 58-byte HEADER"
        case .notFCS(let found):
            return "bytes 0-5 are \(quoted(found)); expected an FCS version such as \"FCS3.1\""
        case .unsupportedVersion(let version):
            return "version \(quoted(version)) is not supported; expected FCS2.0, FCS3.0, FCS3.1 or FCS3.2"
        case .badHeaderField(let field, let offset, let found):
            return "HEADER field \(field) at byte \(offset) is \(quoted(found)); expected blanks or a non-negative integer"
        case .segmentOutsideFile(let segment, let begin, let end, let fileSize):
            return "\(segment) segment spans bytes \(begin)-\(end) but the file has \(fileSize) bytes"
        case .malformedText(let offset, let detail):
            return "TEXT segment at byte \(offset): \(detail)"
        case .missingKeyword(let keyword):
            return "required keyword \(keyword) is missing"
        case .invalidKeyword(let keyword, let value, let expected):
            return "keyword \(keyword) is \(quoted(value)); expected \(expected)"
        case .noDataOffsets(let detail):
            return "cannot locate the DATA segment: \(detail)"
        case .truncatedData(let expected, let complete, let begin, let size):
            return "file is truncated: $TOT announces \(expected) events from byte \(begin), "
                + "but the \(size)-byte file holds only \(complete) complete events"
        case .dataLengthMismatch(let declared, let events, let perEvent, let begin):
            let needed = events * perEvent
            let whole = perEvent > 0 ? declared / perEvent : 0
            return "DATA from byte \(begin) is \(declared) bytes, but $TOT=\(events) events × \(perEvent) bytes per event ($PAR and $PnB) = \(needed) bytes; "
                + "the keywords do not describe the data (\(declared % max(1, perEvent) == 0 ? "the segment holds \(whole) whole events" : "the segment is not a whole number of events"))"
                + "; only a partial read (inspect --partial, qc --allow-partial) takes what fits"
        case .malformedSpillover(let keyword, let detail):
            return "spillover keyword \(keyword): \(detail)"
        case .badNextData(let offset, let value, let detail):
            return "$NEXTDATA \(quoted(value)) in the data set at byte \(offset): \(detail)"
        case .noSuchDataSet(let index, let count):
            return "data set \(index) requested but the file has \(count) (indices 0-\(count - 1))"
        case .write(let message):
            return message
        }
    }
}

/// Quotes a value for an error message, showing control bytes visibly and
/// shortening very long values.
func quoted(_ value: String) -> String {
    var shown = ""
    for scalar in value.unicodeScalars.prefix(80) {
        if scalar.value < 0x20 || scalar.value == 0x7F {
            shown += "\\x" + String(scalar.value, radix: 16, uppercase: true)
        } else {
            shown.unicodeScalars.append(scalar)
        }
    }
    if value.unicodeScalars.count > 80 { shown += "…" }
    return "\"" + shown + "\""
}

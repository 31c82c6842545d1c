import EventCore

/// The 58-byte HEADER segment of one FCS data set.
///
/// Bytes 0–5 hold the version, 6–9 blanks, then six 8-byte right-justified
/// ASCII offsets: TEXT, DATA and ANALYSIS begin and end (each end is the *last*
/// byte of its segment). Offsets are relative to the start of the data set.
/// A blank field, or 0 for DATA/ANALYSIS, means "see TEXT" (files over
/// 99,999,999 bytes write $BEGINDATA/$ENDDATA instead).
public struct FCSHeader: Sendable, Equatable {
    /// The version as written, e.g. "FCS3.1".
    public let version: String
    /// The version as a number (2.0, 3.0, 3.1, 3.2).
    public let versionNumber: Double
    public let textBegin: Int
    public let textEnd: Int
    /// DATA offsets; nil when blank.
    public let dataBegin: Int?
    public let dataEnd: Int?
    /// ANALYSIS offsets; nil when blank.
    public let analysisBegin: Int?
    public let analysisEnd: Int?

    /// The HEADER's size in bytes.
    public static let length = 58

    static let supportedVersions: [String: Double] = ["FCS2.0": 2.0, "FCS3.0": 3.0, "FCS3.1": 3.1, "FCS3.2": 3.2]

    /// Parses the HEADER at `base` (the data set's absolute offset) from its 58 bytes.
    static func parse(_ bytes: [UInt8], base: Int, path: String) throws(FCSError) -> FCSHeader {
        guard bytes.count >= length else {
            throw FCSError(file: path, .fileTooShort(size: base + bytes.count))
        }
        let version = decodeText(bytes[0..<6])
        guard version.hasPrefix("FCS") else {
            throw FCSError(file: path, .notFCS(found: version))
        }
        guard let number = supportedVersions[version] else {
            throw FCSError(file: path, .unsupportedVersion(version))
        }
        func field(_ index: Int, _ name: String) throws(FCSError) -> Int? {
            let start = 10 + index * 8
            let text = decodeText(bytes[start..<(start + 8)])
            let trimmed = DataSetKeywords.trimmingBlanks(text)
            if trimmed.isEmpty { return nil }
            guard let value = Int(trimmed), value >= 0 else {
                throw FCSError(file: path, .badHeaderField(field: name, byteOffset: base + start, found: text))
            }
            return value
        }
        let textBegin = try field(0, "TEXT begin")
        let textEnd = try field(1, "TEXT end")
        guard let textBegin, let textEnd, textBegin > 0 || textEnd > 0 else {
            throw FCSError(file: path, .malformedText(byteOffset: base + 10, detail: "HEADER gives no TEXT offsets"))
        }
        return FCSHeader(
            version: version, versionNumber: number,
            textBegin: textBegin, textEnd: textEnd,
            dataBegin: try field(2, "DATA begin"), dataEnd: try field(3, "DATA end"),
            analysisBegin: try field(4, "ANALYSIS begin"), analysisEnd: try field(5, "ANALYSIS end"))
    }
}

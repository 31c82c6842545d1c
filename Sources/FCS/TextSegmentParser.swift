import EventCore

/// Splits an FCS TEXT (or supplemental TEXT) segment into keyword/value pairs.
///
/// Rules, in the order real files need them:
/// - the first byte is the delimiter (any byte 1–126);
/// - inside a value, a doubled delimiter is an escaped delimiter character (`488//10` is `488/10`);
/// - a doubled delimiter straight after a keyword is an empty value (`$P3S//$P4S/…`), which the
///   standard forbids but FACSCalibur, Attune and others write — recorded as a repair;
/// - a value running to the end of the segment without a closing delimiter is kept (repair);
/// - stray delimiters, blanks or NULs after the last pair are ignored (repair when not blank).
///
/// Cost: one pass over the segment bytes, O(length).
struct TextSegmentParser {
    let path: String
    /// Absolute byte offset of the segment in the file, for error messages.
    let segmentOffset: Int

    struct Result {
        var pairs: [(String, String)]
        var warnings: [ReadWarning]
    }

    /// Parses a primary TEXT segment, whose first byte is the delimiter.
    func parsePrimary(_ bytes: [UInt8]) throws(FCSError) -> (pairs: [(String, String)], delimiter: UInt8, warnings: [ReadWarning]) {
        guard let delimiter = bytes.first else {
            throw FCSError(file: path, .malformedText(byteOffset: segmentOffset, detail: "segment is empty"))
        }
        guard delimiter >= 1 && delimiter <= 126 else {
            throw FCSError(file: path, .malformedText(
                byteOffset: segmentOffset,
                detail: "first byte 0x\(String(delimiter, radix: 16)) is not a valid delimiter (expected an ASCII byte 1-126)"))
        }
        let result = try parse(bytes, from: 1, delimiter: delimiter, segmentName: "TEXT")
        return (result.pairs, delimiter, result.warnings)
    }

    /// Parses a supplemental TEXT segment with the primary delimiter; a leading delimiter is skipped.
    func parseSupplemental(_ bytes: [UInt8], delimiter: UInt8) throws(FCSError) -> Result {
        let start = bytes.first == delimiter ? 1 : 0
        return try parse(bytes, from: start, delimiter: delimiter, segmentName: "supplemental TEXT")
    }

    private func parse(_ bytes: [UInt8], from start: Int, delimiter: UInt8, segmentName: String) throws(FCSError) -> Result {
        var pairs: [(String, String)] = []
        var warnings: [ReadWarning] = []
        var emptyValueKeys: [String] = []
        var position = start
        let end = bytes.count
        let isBlank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x00 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }

        while position < end {
            // Whatever remains: blanks or stray delimiters end the segment.
            if bytes[position..<end].allSatisfy({ isBlank($0) || $0 == delimiter }) {
                if bytes[position..<end].contains(delimiter) {
                    warnings.append(ReadWarning(.textRepaired,
                        "\(segmentName) ends with \(bytes[position..<end].filter { $0 == delimiter }.count) stray delimiter(s) after the last value; ignored"))
                }
                break
            }
            // Keyword: up to the next delimiter.
            let keyStart = position
            while position < end && bytes[position] != delimiter { position += 1 }
            let keyBytes = bytes[keyStart..<position]
            let key = DataSetKeywords.trimmingBlanks(decodeText(keyBytes))
            if position >= end {
                throw FCSError(file: path, .malformedText(
                    byteOffset: segmentOffset + keyStart,
                    detail: "keyword \(quoted(key)) has no value: the delimiter \(quoted(String(UnicodeScalar(delimiter)))) never follows it"))
            }
            if key.isEmpty {
                throw FCSError(file: path, .malformedText(byteOffset: segmentOffset + keyStart, detail: "empty keyword name"))
            }
            // A control byte inside a keyword name (blanks around it are trimmed): the name cannot be
            // matched (a NUL in "$P6S" would silently drop that channel's stain).
            var innerStart = keyStart, innerEnd = position
            while innerStart < innerEnd && isBlank(bytes[innerStart]) { innerStart += 1 }
            while innerEnd > innerStart && isBlank(bytes[innerEnd - 1]) { innerEnd -= 1 }
            if let bad = (innerStart..<innerEnd).first(where: { bytes[$0] < 0x20 || bytes[$0] == 0x7F }) {
                throw FCSError(file: path, .malformedText(
                    byteOffset: segmentOffset + bad,
                    detail: "keyword name \(quoted(key)) contains the control byte 0x\(bytes[bad] < 16 ? "0" : "")\(String(bytes[bad], radix: 16, uppercase: true))"))
            }
            position += 1 // past the keyword's delimiter
            // Doubled delimiter straight after a keyword: an empty value.
            if position < end && bytes[position] == delimiter {
                pairs.append((key, ""))
                emptyValueKeys.append(key)
                position += 1
                continue
            }
            // Value: up to a single delimiter; doubled delimiters are escapes.
            var value: [UInt8] = []
            var closed = false
            while position < end {
                let byte = bytes[position]
                if byte == delimiter {
                    if position + 1 < end && bytes[position + 1] == delimiter {
                        // An escaped delimiter, unless nothing but blanks follow (a stray final delimiter).
                        if bytes[(position + 2)..<end].allSatisfy(isBlank) {
                            position += 1
                            closed = true
                            break
                        }
                        value.append(delimiter)
                        position += 2
                        continue
                    }
                    position += 1
                    closed = true
                    break
                }
                value.append(byte)
                position += 1
            }
            if !closed {
                warnings.append(ReadWarning(.textRepaired,
                    "\(segmentName) does not end with the delimiter; value of \(key) taken to the end of the segment"))
            }
            pairs.append((key, decodeText(value[...])))
        }
        if !emptyValueKeys.isEmpty {
            let shown = emptyValueKeys.prefix(8).joined(separator: ", ")
            let more = emptyValueKeys.count > 8 ? " and \(emptyValueKeys.count - 8) more" : ""
            warnings.append(ReadWarning(.textRepaired,
                "\(emptyValueKeys.count) keyword(s) have empty values written as a doubled delimiter (\(shown)\(more)); read as empty"))
        }
        return Result(pairs: pairs, warnings: warnings)
    }
}

/// Decodes TEXT bytes as UTF-8, falling back to Latin-1 for older files that are not valid UTF-8.
func decodeText(_ bytes: ArraySlice<UInt8>) -> String {
    if let text = String(validating: bytes, as: UTF8.self) { return text }
    var text = ""
    text.unicodeScalars.append(contentsOf: bytes.map { UnicodeScalar($0) })
    return text
}

import EventCore

// The DATA segment of a data set: where it lies, how its events are laid out, and how many
// events it holds — each checked against the keywords and the file.
extension DataSetParser {
    /// $BYTEORD must cover the stored values: as many byte numbers as the widest value holds, or
    /// FCS 3.1's four (1,2,3,4 or 4,3,2,1, written for any width). "1,2,3" on 32-bit data names
    /// no order for the fourth byte.
    func checkByteOrder(_ byteOrderText: String, covers bits: [Int], dataType: FCSDataType) throws(FCSError) {
        guard dataType != .ascii, let widest = bits.map({ ($0 + 7) / 8 }).max(), widest > 1 else { return }
        let named = byteOrderText.split(separator: ",").count
        if named != 4 && named < widest {
            throw FCSError(file: path, .invalidKeyword(keyword: "$BYTEORD", value: byteOrderText,
                expected: "\(widest) byte numbers for \(widest * 8)-bit values (or 1,2,3,4 / 4,3,2,1)"))
        }
    }

    /// The events to read: $TOT checked against the DATA length (a one-byte difference is the
    /// reported repair, any other an error unless partial reading is asked for) and against the
    /// file's complete events (truncation).
    func eventCount(declaredTotal: Int?, layout: EventLayout, location: DataLocation, warnings: inout [ReadWarning]) throws(FCSError) -> Int {
        var total: Int
        if let declaredTotal {
            total = declaredTotal
            let (needed, overflow) = declaredTotal.multipliedReportingOverflow(by: layout.bytesPerEvent)
            if overflow {
                throw FCSError(file: path, .invalidKeyword(keyword: "$TOT", value: String(declaredTotal), expected: "an event count whose data fits in a file"))
            }
            if needed != location.declaredBytes {
                let declaredEnd = location.begin + location.declaredBytes - 1
                if abs(needed - location.declaredBytes) == 1 {
                    // $ENDDATA one byte off (Beckman, BD and others): the documented repair.
                    warnings.append(ReadWarning(.dataEndMismatch,
                        "DATA declared as bytes \(location.begin)-\(declaredEnd) (\(location.declaredBytes) bytes) but $TOT=\(declaredTotal) × \(layout.bytesPerEvent) bytes = \(needed) bytes; read bytes \(location.begin)-\(location.begin + needed - 1)"))
                } else if options.allowPartialData {
                    let fitting = layout.bytesPerEvent > 0 ? min(declaredTotal, location.declaredBytes / layout.bytesPerEvent) : declaredTotal
                    warnings.append(ReadWarning(.partialData,
                        "DATA declared as bytes \(location.begin)-\(declaredEnd) (\(location.declaredBytes) bytes) but $TOT=\(declaredTotal) × \(layout.bytesPerEvent) bytes = \(needed) bytes; read the \(fitting) events that fit both (partial reading requested)"))
                    total = fitting
                } else {
                    throw FCSError(file: path, .dataLengthMismatch(declaredBytes: location.declaredBytes, events: declaredTotal,
                                                                   bytesPerEvent: layout.bytesPerEvent, dataBegin: location.begin))
                }
            }
        } else {
            total = layout.bytesPerEvent > 0 ? location.declaredBytes / layout.bytesPerEvent : 0
            warnings.append(ReadWarning(.missingTotal,
                "$TOT is missing; \(total) events taken from the DATA length (\(location.declaredBytes) bytes / \(layout.bytesPerEvent) bytes per event)"))
        }
        let available = max(0, source.size - location.begin)
        let complete = layout.bytesPerEvent > 0 ? available / layout.bytesPerEvent : total
        if complete < total {
            if options.allowPartialData {
                warnings.append(ReadWarning(.partialData,
                    "file is truncated: $TOT announces \(total) events but only \(complete) complete events are present; read \(complete) (partial reading requested)"))
                total = complete
            } else {
                throw FCSError(file: path, .truncatedData(expectedEvents: total, completeEvents: complete, dataBegin: location.begin, fileSize: source.size))
            }
        }

        return total
    }

    // MARK: - DATA location

    struct DataLocation {
        var begin: Int
        var declaredBytes: Int
    }

    /// Chooses the DATA offsets: candidates from HEADER and from $BEGINDATA/$ENDDATA;
    /// a candidate that overlaps HEADER or TEXT, or ends before it begins, is rejected;
    /// of the rest, one inside the file (its end at most one byte past it) wins over one
    /// running past the end, and HEADER wins over TEXT. Disagreements are warnings.
    func locateData(header: FCSHeader, keywords: DataSetKeywords, offset: Int, textRange: ClosedRange<Int>, warnings: inout [ReadWarning]) throws(FCSError) -> DataLocation {
        struct Candidate { let name: String; let begin: Int; let end: Int }
        var candidates: [Candidate] = []
        if let begin = header.dataBegin, let end = header.dataEnd, !(begin == 0 && end == 0), begin != 99_999_999, end != 99_999_999 {
            candidates.append(Candidate(name: "HEADER", begin: clampedSum(offset, begin), end: clampedSum(offset, end)))
        }
        let beginText = keywords.trimmed("$BEGINDATA"), endText = keywords.trimmed("$ENDDATA")
        if let beginText, let endText {
            if let begin = Int(beginText), let end = Int(endText), begin >= 0, end >= 0 {
                if !(begin == 0 && end == 0) {
                    candidates.append(Candidate(name: "TEXT", begin: clampedSum(offset, begin), end: clampedSum(offset, end)))
                }
            } else {
                warnings.append(ReadWarning(.dataOffsetRejected, "$BEGINDATA=\(quoted(beginText)) / $ENDDATA=\(quoted(endText)) are not byte offsets; ignored"))
            }
        }
        guard !candidates.isEmpty else {
            throw FCSError(file: path, .noDataOffsets(detail: "HEADER DATA offsets are blank or zero and $BEGINDATA/$ENDDATA are absent"))
        }
        func describe(_ c: Candidate) -> String { "\(c.name) says bytes \(c.begin)-\(c.end)" }
        var usable: [Candidate] = []
        for candidate in candidates {
            let overlapsText = candidate.begin <= textRange.upperBound && candidate.end >= textRange.lowerBound
            if candidate.begin < offset + FCSHeader.length || overlapsText || candidate.end < candidate.begin - 1 {
                warnings.append(ReadWarning(.dataOffsetRejected,
                    "\(describe(candidate)), which overlaps HEADER/TEXT (TEXT is bytes \(textRange.lowerBound)-\(textRange.upperBound)) or is inverted; rejected"))
            } else {
                usable.append(candidate)
            }
        }
        guard !usable.isEmpty else {
            throw FCSError(file: path, .noDataOffsets(detail: candidates.map(describe).joined(separator: "; ") + "; all overlap TEXT (bytes \(textRange.lowerBound)-\(textRange.upperBound))"))
        }
        let inside = usable.filter { $0.end <= source.size }
        for candidate in usable where candidate.end > source.size && !inside.isEmpty {
            warnings.append(ReadWarning(.dataOffsetRejected, "\(describe(candidate)), past the end of the \(source.size)-byte file; rejected"))
        }
        let rivals = inside.isEmpty ? usable : inside
        let chosen = rivals[0]
        if let other = rivals.first(where: { $0.name != chosen.name }), other.begin != chosen.begin || other.end != chosen.end {
            warnings.append(ReadWarning(.dataOffsetDisagreement,
                "DATA offsets disagree: \(describe(chosen)), \(describe(other)); using \(chosen.name)"))
        }
        return DataLocation(begin: chosen.begin, declaredBytes: chosen.end - chosen.begin + 1)
    }

    // MARK: - Layout

    func makeLayout(dataType: FCSDataType, byteOrder: FCSByteOrder, bits: [Int], channels: [EventChannel],
                            declaredBytes: Int, declaredTotal: Int?, warnings: inout [ReadWarning]) throws(FCSError) -> EventLayout {
        var widths: [Int]
        switch dataType {
        case .float: widths = bits.map { _ in 4 }
        case .double: widths = bits.map { _ in 8 }
        case .ascii: widths = bits
        case .integer:
            if bits.allSatisfy({ $0 % 8 == 0 }) {
                widths = bits.map { $0 / 8 }
            } else {
                // Widths that are not whole bytes: stored in 8/16/32/64-bit words, or bit-packed.
                let padded = bits.map { $0 <= 8 ? 1 : $0 <= 16 ? 2 : $0 <= 32 ? 4 : 8 }
                let paddedEvent = padded.reduce(0, +)
                let packedBits = bits.reduce(0, +)
                let odd = bits.enumerated().filter { $0.element % 8 != 0 }.map { "$P\($0.offset + 1)B=\($0.element)" }
                let events = declaredTotal ?? (declaredBytes / max(1, paddedEvent))
                let paddedBytes = events * paddedEvent
                let packedBytes = (events * packedBits + 7) / 8
                if abs(declaredBytes - paddedBytes) <= abs(declaredBytes - packedBytes) {
                    widths = padded
                    warnings.append(ReadWarning(.storageWidth,
                        "\(odd.prefix(4).joined(separator: ", ")) is not a whole number of bytes; DATA (\(declaredBytes) bytes for \(events) events) holds \(paddedEvent)-byte events, so values are read from \(Set(padded).sorted().map { "\($0 * 8)-bit" }.joined(separator: "/")) words"))
                } else {
                    throw FCSError(file: path, .invalidKeyword(
                        keyword: "$P\((bits.firstIndex { $0 % 8 != 0 } ?? 0) + 1)B", value: String(bits.first { $0 % 8 != 0 } ?? 0),
                        expected: "whole bytes; DATA length \(declaredBytes) matches bit-packed values, which are not supported"))
                }
            }
            for (i, width) in widths.enumerated() where width > 8 || width < 1 {
                throw FCSError(file: path, .invalidKeyword(keyword: "$P\(i + 1)B", value: String(bits[i]), expected: "1-64 bits"))
            }
        }
        if case .permuted(let order) = byteOrder, dataType != .ascii {
            for (i, width) in widths.enumerated() where width != order.count && width > 1 {
                throw FCSError(file: path, .invalidKeyword(
                    keyword: "$BYTEORD", value: order.map { String($0 + 1) }.joined(separator: ","),
                    expected: "an order for \(width)-byte values of $P\(i + 1) (mixed orders apply only to values of their own width)"))
            }
        }
        var fields: [FieldLayout] = []
        var position = 0
        for (i, width) in widths.enumerated() {
            let kind: FieldLayout.Kind
            switch dataType {
            case .float: kind = .float32
            case .double: kind = .float64
            case .ascii: kind = .ascii
            case .integer: kind = .unsigned(mask: integerMask(range: channels[i].range, width: width))
            }
            fields.append(FieldLayout(offset: position, width: width, kind: kind))
            position += width
        }
        return EventLayout(fields: fields, bytesPerEvent: position, byteOrder: byteOrder)
    }
}

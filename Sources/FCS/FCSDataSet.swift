import EventCore

/// One data set of an FCS file: its HEADER, keywords, channels and where its events lie.
///
/// Built by ``FCSFile``; holds metadata only (a few kilobytes). Events are read
/// with ``FCSEventReader``.
public struct FCSDataSet: Sendable {
    /// 0-based position in the file's $NEXTDATA chain.
    public let index: Int
    /// Absolute byte offset of this data set's HEADER.
    public let offset: Int
    public let header: FCSHeader
    /// Primary and supplemental TEXT keywords.
    public let keywords: DataSetKeywords
    public let channels: [EventChannel]
    public let dataType: FCSDataType
    public let byteOrder: FCSByteOrder
    /// Events that will be read: $TOT, or fewer when partial reading recovered a truncated file.
    public let eventCount: Int
    /// $TOT as written; nil when absent (allowed in FCS 2.0).
    public let declaredEventCount: Int?
    /// Absolute byte offset of the first event.
    public let dataBegin: Int
    /// Bytes per event.
    public let bytesPerEvent: Int
    /// $TIMESTEP in seconds, when present and valid.
    public let timestep: Double?
    /// $NEXTDATA as written (relative to `offset`; 0 ends the chain).
    public let nextData: Int
    /// Repairs and irregularities found while reading this data set.
    public let warnings: [ReadWarning]
    /// The spillover matrix, nil when the data set has none, or the error that makes it unusable.
    public let spillover: Result<SpilloverMatrix?, FCSError>

    let layout: EventLayout

    /// The FCS version of this data set ("FCS3.1").
    public var version: String { header.version }
    /// $CYT, the instrument, when present.
    public var cytometer: String? { keywords.trimmed("$CYT").flatMap { $0.isEmpty ? nil : $0 } }
    /// True when some values need `Double` to be exact (64-bit floats, or integers wider than 24 bits).
    public var requiresDoublePrecision: Bool { !layout.isExactInFloat32 }
    /// The byte range of the events that will be read.
    public var dataRange: Range<Int> { dataBegin..<(dataBegin + eventCount * bytesPerEvent) }

    /// The index of the channel whose $PnN (or unique name) is `name`; case-sensitive first, then case-insensitive.
    public func channelIndex(named name: String) -> Int? { channels.index(named: name) }

    /// The data set as every format describes it, for the gating and analysis layers.
    public var eventDataSet: EventDataSet {
        EventDataSet(
            index: index, version: version, keywords: keywords, channels: channels, eventCount: eventCount,
            declaredEventCount: declaredEventCount, timestep: timestep, requiresDoublePrecision: requiresDoublePrecision,
            storage: EventDataSet.Storage(offset: offset, dataType: dataType.rawValue, byteOrder: byteOrder.description,
                                          bytesPerEvent: bytesPerEvent, dataBegin: dataBegin),
            warnings: warnings, spillover: spillover.mapError { $0 as any Error })
    }
}

/// Builds an ``FCSDataSet`` from the bytes at one data set offset.
struct DataSetParser {
    /// The file being read; nil when only keywords are described (``FCSDataSet/describing(keywords:version:eventCount:path:)``).
    let source: ByteSource!
    let options: ReadOptions
    let path: String

    init(source: ByteSource?, options: ReadOptions, path: String? = nil) {
        self.source = source
        self.options = options
        self.path = path ?? source?.path ?? ""
    }

    /// Upper bound on $PAR: no instrument writes more parameters.
    static let maximumParameters = 10_000

    func parse(at offset: Int, index: Int) throws(FCSError) -> FCSDataSet {
        let headerBytes = try source.bytes(offset..<(offset + FCSHeader.length))
        let header = try FCSHeader.parse(headerBytes, base: offset, path: path)
        var warnings: [ReadWarning] = []

        // TEXT
        let textBegin = offset + header.textBegin
        let textEnd = offset + header.textEnd
        guard header.textBegin >= FCSHeader.length || header.textBegin > 0, textEnd >= textBegin, textEnd < source.size else {
            throw FCSError(file: path, .segmentOutsideFile(segment: "TEXT", begin: textBegin, end: textEnd, fileSize: source.size))
        }
        let textBytes = try source.bytes(textBegin..<(textEnd + 1))
        let parser = TextSegmentParser(path: path, segmentOffset: textBegin)
        let primary = try parser.parsePrimary(textBytes)
        warnings += primary.warnings
        var keywords = DataSetKeywords()
        var duplicates: [String] = []
        for (key, value) in primary.pairs {
            if keywords.contains(key) { duplicates.append(key) }
            keywords[key] = value
        }

        // Supplemental TEXT
        if let stextBegin = intValue(keywords, "$BEGINSTEXT"), let stextEnd = intValue(keywords, "$ENDSTEXT"),
           stextBegin > 0, stextEnd >= stextBegin {
            let begin = clampedSum(offset, stextBegin), end = clampedSum(offset, stextEnd)
            if end < source.size, end < textBegin || begin > textEnd {
                let bytes = try source.bytes(begin..<(end + 1))
                let supplemental = try? TextSegmentParser(path: path, segmentOffset: begin)
                    .parseSupplemental(bytes, delimiter: primary.delimiter)
                let printable: (String) -> Bool = { key in key.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F } }
                if let supplemental, supplemental.pairs.allSatisfy({ printable($0.0) }) {
                    warnings += supplemental.warnings
                    for (key, value) in supplemental.pairs {
                        if keywords.contains(key) { duplicates.append(key) } else { keywords[key] = value }
                    }
                } else {
                    warnings.append(ReadWarning(.textRepaired,
                        "supplemental TEXT at bytes \(begin)-\(end) ($BEGINSTEXT/$ENDSTEXT) is not keyword text (binary or malformed); ignored"))
                }
            } else if !(begin >= textBegin && end <= textEnd) {
                warnings.append(ReadWarning(.dataOffsetRejected,
                    "supplemental TEXT at bytes \(begin)-\(end) lies outside the file or overlaps TEXT; ignored"))
            }
        }
        if !duplicates.isEmpty {
            warnings.append(ReadWarning(.duplicateKeyword,
                "keyword(s) written more than once: \(duplicates.prefix(8).joined(separator: ", ")); the primary TEXT's last value is used"))
        }

        // Required keywords
        let parameterCount = try requiredInt(keywords, "$PAR", expected: "a positive integer", range: 1...Self.maximumParameters)
        guard let dataTypeText = keywords.trimmed("$DATATYPE") else { throw FCSError(file: path, .missingKeyword("$DATATYPE")) }
        guard let dataType = FCSDataType(rawValue: dataTypeText.uppercased()) else {
            throw FCSError(file: path, .invalidKeyword(keyword: "$DATATYPE", value: dataTypeText, expected: "I, F, D or A"))
        }
        if let mode = keywords.trimmed("$MODE"), mode.uppercased() != "L" {
            throw FCSError(file: path, .invalidKeyword(keyword: "$MODE", value: mode, expected: "L (list mode); histogram modes C and U are not supported"))
        }
        guard let byteOrderText = keywords.trimmed("$BYTEORD") else { throw FCSError(file: path, .missingKeyword("$BYTEORD")) }
        let byteOrder = try FCSByteOrder.parse(byteOrderText, path: path)
        var declaredTotal: Int?
        if keywords.contains("$TOT") {
            declaredTotal = try requiredInt(keywords, "$TOT", expected: "a non-negative integer", range: 0...Int(Int32.max) * 64)
        } else if header.versionNumber >= 3.0 {
            throw FCSError(file: path, .missingKeyword("$TOT"))
        }
        let timestep = parseTimestep(keywords, &warnings)

        // Channels
        let (channels, bitsPerChannel) = try Self.describeChannels(keywords, path: path, dataType: dataType, parameterCount: parameterCount,
                                                              timestep: timestep, warnings: &warnings)

        // Locate DATA and settle the storage widths.
        let location = try locateData(header: header, keywords: keywords, offset: offset, textRange: textBegin...textEnd, warnings: &warnings)
        let layout = try makeLayout(
            dataType: dataType, byteOrder: byteOrder, bits: bitsPerChannel, channels: channels,
            declaredBytes: location.declaredBytes, declaredTotal: declaredTotal, warnings: &warnings)

        try checkByteOrder(byteOrderText, covers: bitsPerChannel, dataType: dataType)
        let total = try eventCount(declaredTotal: declaredTotal, layout: layout, location: location, warnings: &warnings)

        let nextDataText = keywords.trimmed("$NEXTDATA") ?? "0"
        let nextData = Int(nextDataText) ?? -1

        // Spillover: parsed now, its error kept for whoever needs the matrix.
        let spillover = Self.parseSpillover(keywords, path: path, channels: channels, warnings: &warnings)

        return FCSDataSet(
            index: index, offset: offset, header: header, keywords: keywords, channels: channels,
            dataType: dataType, byteOrder: byteOrder, eventCount: total, declaredEventCount: declaredTotal,
            dataBegin: location.begin, bytesPerEvent: layout.bytesPerEvent, timestep: timestep,
            nextData: nextData, warnings: warnings, spillover: spillover, layout: layout)
    }

    /// The channels the keywords describe ($PnN, $PnS, $PnR, $PnB, $PnE, $PnG, time), and each one's $PnB.
    static func describeChannels(_ keywords: DataSetKeywords, path: String, dataType: FCSDataType, parameterCount: Int, timestep: Double?,
                                 warnings: inout [ReadWarning]) throws(FCSError) -> ([EventChannel], [Int]) {
    var channels: [EventChannel] = []
    var bitsPerChannel: [Int] = []
    var nameCounts: [String: Int] = [:]
    var names: [String] = []
    for n in 1...parameterCount {
        let name = keywords.trimmed("$P\(n)N").flatMap { $0.isEmpty ? nil : $0 } ?? "P\(n)"
        names.append(name)
        nameCounts[name, default: 0] += 1
    }
    var missingRanges: [String] = []
    var ignoredAmplification: [String] = []
    var ignoredGains: [String] = []
    var zeroOffsets: [String] = []
    for n in 1...parameterCount {
        let bitsKey = "$P\(n)B"
        guard let bitsText = keywords.trimmed(bitsKey) else { throw FCSError(file: path, .missingKeyword(bitsKey)) }
        if bitsText == "*" {
            throw FCSError(file: path, .invalidKeyword(keyword: bitsKey, value: bitsText, expected: "a fixed width; delimited ASCII data is not supported"))
        }
        guard let bits = Int(bitsText), bits > 0 else {
            throw FCSError(file: path, .invalidKeyword(keyword: bitsKey, value: bitsText, expected: "a positive integer"))
        }
        switch dataType {
        case .float where bits != 32:
            throw FCSError(file: path, .invalidKeyword(keyword: bitsKey, value: bitsText, expected: "32 for $DATATYPE F"))
        case .double where bits != 64:
            throw FCSError(file: path, .invalidKeyword(keyword: bitsKey, value: bitsText, expected: "64 for $DATATYPE D"))
        case .integer where bits > 64:
            throw FCSError(file: path, .invalidKeyword(keyword: bitsKey, value: bitsText, expected: "at most 64 bits for integer data"))
        case .ascii where bits > 32:
            throw FCSError(file: path, .invalidKeyword(keyword: bitsKey, value: bitsText, expected: "at most 32 characters for ASCII data"))
        default: break
        }
        bitsPerChannel.append(bits)
        let name = names[n - 1]
        let uniqueName = nameCounts[name]! > 1 ? "\(name) [P\(n)]" : name
        let marker = keywords.trimmed("$P\(n)S").flatMap { $0.isEmpty ? nil : $0 }
        var range: Double?
        if let rangeText = keywords.trimmed("$P\(n)R") {
            if let value = Double(rangeText), value.isFinite, value > 0 { range = value }
            else { missingRanges.append("$P\(n)R=\(quoted(rangeText))") }
        } else {
            missingRanges.append("$P\(n)R")
        }
        var amplification = (decades: 0.0, offset: 0.0)
        if let text = keywords.trimmed("$P\(n)E") {
            let parts = text.split(separator: ",").map { Double(DataSetKeywords.trimmingBlanks(String($0))) }
            guard parts.count == 2, let f1 = parts[0], let f2 = parts[1], f1.isFinite, f2.isFinite, f1 >= 0 else {
                throw FCSError(file: path, .invalidKeyword(keyword: "$P\(n)E", value: text, expected: "two numbers f1,f2 such as 0,0 or 4,1"))
            }
            // A negative offset on a log amplifier would turn every value negative.
            guard f1 == 0 || f2 >= 0 else {
                throw FCSError(file: path, .invalidKeyword(keyword: "$P\(n)E", value: text, expected: "a non-negative offset f2 with log decades f1 > 0"))
            }
            amplification = (f1, f2)
        }
        var gain: Double?
        if let text = keywords.trimmed("$P\(n)G"), !text.isEmpty {
            guard let value = Double(text), value.isFinite else {
                throw FCSError(file: path, .invalidKeyword(keyword: "$P\(n)G", value: text, expected: "a number"))
            }
            gain = value
        }
        // Scale: $PnE on integer data; ignored on float data; $PnG on linear data only.
        var scale = ChannelScale.identity
        let isFloat = dataType == .float || dataType == .double
        if amplification.decades > 0 && !isFloat {
            if let range {
                scale = .logarithmic(decades: amplification.decades, offset: amplification.offset == 0 ? 1 : amplification.offset, range: range)
                if amplification.offset == 0 { zeroOffsets.append("$P\(n)E=\(keywordText(keywords, "$P\(n)E"))") }
            } else {
                warnings.append(ReadWarning(.amplificationIgnored, "$P\(n)E=\(keywordText(keywords, "$P\(n)E")) needs $P\(n)R, which is missing; values left unscaled"))
            }
            if let gain, gain != 1 { ignoredGains.append("$P\(n)G=\(DataSetKeywords.value(of: gain)) (log amplified)") }
        } else {
            if amplification.decades != 0 || amplification.offset != 0 {
                if isFloat { ignoredAmplification.append("$P\(n)E=\(keywordText(keywords, "$P\(n)E"))") }
            }
            if let gain, gain != 1 {
                if gain <= 0 {
                    ignoredGains.append("$P\(n)G=\(DataSetKeywords.value(of: gain)) (not positive)")
                } else if let timestep, gain == timestep, EventChannel.isTimeName(name) {
                    ignoredGains.append("$P\(n)G=\(DataSetKeywords.value(of: gain)) on \(name) (equals $TIMESTEP)")
                } else {
                    scale = .gain(gain)
                }
            }
        }
        if scale == .identity, let timestep, EventChannel.isTimeName(name) {
            scale = .seconds(timestep: timestep)
        }
        channels.append(EventChannel(
            number: n, name: name, uniqueName: uniqueName, marker: marker, range: range, bits: bits,
            amplification: amplification, gain: gain, scale: scale))
    }
    if !missingRanges.isEmpty {
        warnings.append(ReadWarning(.rangeMissing, "missing or unreadable range: \(missingRanges.prefix(8).joined(separator: ", ")); integer values are not masked there"))
    }
    if !zeroOffsets.isEmpty {
        warnings.append(ReadWarning(.amplificationIgnored, "log amplification with offset 0 read as offset 1 (10^(f1·x/R)): \(zeroOffsets.joined(separator: ", "))"))
    }
    if !ignoredAmplification.isEmpty {
        warnings.append(ReadWarning(.amplificationIgnored, "log amplification on float data ignored (float values are already linear): \(ignoredAmplification.prefix(8).joined(separator: ", "))"))
    }
    if !ignoredGains.isEmpty {
        warnings.append(ReadWarning(.gainIgnored, "gain ignored: \(ignoredGains.prefix(8).joined(separator: ", "))"))
    }
    let duplicateNames = nameCounts.filter { $0.value > 1 }.keys.sorted()
    if !duplicateNames.isEmpty {
        warnings.append(ReadWarning(.duplicateChannelName, "$PnN repeats: \(duplicateNames.joined(separator: ", ")); such channels are named \"name [Pn]\""))
    }
        return (channels, bitsPerChannel)
    }

    /// The spillover matrix the keywords hold (nil when none), or the error that makes it
    /// unusable, kept for whoever needs the matrix; its repairs go into `warnings`.
    static func parseSpillover(_ keywords: DataSetKeywords, path: String, channels: [EventChannel],
                               warnings: inout [ReadWarning]) -> Result<SpilloverMatrix?, FCSError> {
        do {
            let (matrix, spillWarnings) = try SpilloverParser(path: path, keywords: keywords, channels: channels).parse()
            warnings += spillWarnings
            return .success(matrix)
        } catch {
            return .failure(error)
        }
    }

    // MARK: - Keyword helpers

    private static func keywordText(_ keywords: DataSetKeywords, _ key: String) -> String { keywords.trimmed(key) ?? "" }

    private func intValue(_ keywords: DataSetKeywords, _ key: String) -> Int? {
        keywords.trimmed(key).flatMap { Int($0) }
    }

    func requiredInt(_ keywords: DataSetKeywords, _ key: String, expected: String, range: ClosedRange<Int>) throws(FCSError) -> Int {
        guard let text = keywords.trimmed(key) else { throw FCSError(file: path, .missingKeyword(key)) }
        guard let value = Int(text), range.contains(value) else {
            throw FCSError(file: path, .invalidKeyword(keyword: key, value: text, expected: "\(expected) (\(range.lowerBound)-\(range.upperBound))"))
        }
        return value
    }

    func parseTimestep(_ keywords: DataSetKeywords, _ warnings: inout [ReadWarning]) -> Double? {
        guard let text = keywords.trimmed("$TIMESTEP"), !text.isEmpty else { return nil }
        if let value = Double(text), value.isFinite, value > 0 { return value }
        warnings.append(ReadWarning(.timestepInvalid, "$TIMESTEP is \(quoted(text)), not a positive number; time is left in ticks"))
        return nil
    }
}

/// `offset + value` for offsets read from a file, clamped far beyond any real file size so that
/// later arithmetic on it (lengths, comparisons with the file size) cannot overflow.
func clampedSum(_ offset: Int, _ value: Int) -> Int {
    let limit = Int.max / 4
    if value >= limit - offset { return limit }
    return offset + value
}

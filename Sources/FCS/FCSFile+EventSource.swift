import EventCore

extension FCSFile: EventSource {
    public var formatName: String { "FCS" }
    public func eventReader(dataSet index: Int?, blockSize: Int) throws -> any EventReader {
        try reader(dataSet: index, blockSize: blockSize)
    }
}

extension EventDataSet {
    /// Describes events kept outside an FCS file (an HDF5 event store) from the FCS keywords kept
    /// with them: channels, markers, ranges, scales ($PnE, $PnG, $TIMESTEP) and spillover are
    /// read exactly as from the original file, so gating gives the same result. The events
    /// themselves are float32 values, one column per $PnN.
    ///
    /// - Throws: the FCS error for a missing or malformed structural keyword ($PAR, $PnB, $PnE…), naming `path`.
    public static func describing(keywords: DataSetKeywords, version: String, eventCount: Int, path: String) throws(FCSError) -> EventDataSet {
        let parser = DataSetParser(source: nil, options: ReadOptions(), path: path)
        var warnings: [ReadWarning] = []
        let parameterCount = try parser.requiredInt(keywords, "$PAR", expected: "a positive integer", range: 1...DataSetParser.maximumParameters)
        var dataType = FCSDataType.float
        if let text = keywords.trimmed("$DATATYPE") {
            guard let stored = FCSDataType(rawValue: text.uppercased()) else {
                throw FCSError(file: path, .invalidKeyword(keyword: "$DATATYPE", value: text, expected: "I, F, D or A"))
            }
            dataType = stored
        }
        let timestep = parser.parseTimestep(keywords, &warnings)
        let (channels, bits) = try DataSetParser.describeChannels(keywords, path: path, dataType: dataType, parameterCount: parameterCount,
                                                               timestep: timestep, warnings: &warnings)
        let spillover = DataSetParser.parseSpillover(keywords, path: path, channels: channels, warnings: &warnings)
        // The same test as the FCS reader's: integers are exact in float32 when their mask ($PnR) keeps fewer than 24 bits.
        let exactInFloat32: Bool
        switch dataType {
        case .float: exactInFloat32 = true
        case .double: exactInFloat32 = false
        case .ascii: exactInFloat32 = bits.allSatisfy { $0 <= 7 }
        case .integer:
            exactInFloat32 = channels.indices.allSatisfy { integerMask(range: channels[$0].range, width: min(8, max(1, (bits[$0] + 7) / 8))) < (1 << 24) }
        }
        if !exactInFloat32 {
            warnings.append(ReadWarning(.valuesRounded,
                "the source stored \(dataType == .double ? "64-bit floats" : "values wider than float32's 24-bit significand") ($DATATYPE \(dataType.rawValue)); these events are float32, rounded to about 7 significant digits"))
        }
        return EventDataSet(
            index: 0, version: version, keywords: keywords, channels: channels, eventCount: eventCount,
            declaredEventCount: eventCount, timestep: timestep, requiresDoublePrecision: false,
            storage: EventDataSet.Storage(offset: 0, dataType: dataType.rawValue, byteOrder: FCSByteOrder.littleEndian.description,
                                          bytesPerEvent: parameterCount * 4, dataBegin: 0),
            warnings: warnings, spillover: spillover.mapError { $0 as any Error })
    }
}

/// What one data set's events are, whatever file format holds them: its keywords, channels,
/// count, scales and spillover. Readers of every format describe their data sets with this type,
/// so gating and analysis never see a format's own structures.
///
/// The FCS reader builds it from HEADER and TEXT; the HDF5 event store from the FCS keywords it
/// keeps (so both describe the same events identically). Metadata only, a few kilobytes.
public struct EventDataSet: Sendable {
    /// How the events are stored, in the FCS vocabulary that `inspect` prints.
    public struct Storage: Sendable, Equatable {
        /// Byte offset of the data set's own description (an FCS HEADER); 0 where the format has none.
        public let offset: Int
        /// The stored value type as $DATATYPE names it: I, F, D or A.
        public let dataType: String
        /// The byte order of stored values as $BYTEORD writes it ("1,2,3,4").
        public let byteOrder: String
        /// Bytes per stored event.
        public let bytesPerEvent: Int
        /// Byte offset of the first event; 0 where the format keeps events elsewhere (an HDF5 dataset).
        public let dataBegin: Int

        public init(offset: Int, dataType: String, byteOrder: String, bytesPerEvent: Int, dataBegin: Int) {
            self.offset = offset
            self.dataType = dataType
            self.byteOrder = byteOrder
            self.bytesPerEvent = bytesPerEvent
            self.dataBegin = dataBegin
        }
    }

    /// 0-based position among the file's data sets.
    public let index: Int
    /// The FCS version the description follows ("FCS3.1").
    public let version: String
    /// The keywords describing the data set.
    public let keywords: DataSetKeywords
    public let channels: [EventChannel]
    /// Events that will be read: $TOT, or fewer when a partial read recovered a truncated file.
    public let eventCount: Int
    /// $TOT as written; nil when absent (allowed in FCS 2.0).
    public let declaredEventCount: Int?
    /// $TIMESTEP in seconds, when present and valid.
    public let timestep: Double?
    /// True when some values need `Double` to be exact (64-bit floats, or integers wider than 24 bits).
    public let requiresDoublePrecision: Bool
    public let storage: Storage
    /// Repairs and irregularities found while reading this data set.
    public let warnings: [ReadWarning]
    /// The spillover matrix, nil when the data set has none, or the error (the format reader's,
    /// naming the file and keyword) that makes it unusable.
    public let spillover: Result<SpilloverMatrix?, any Error>

    public init(index: Int, version: String, keywords: DataSetKeywords, channels: [EventChannel], eventCount: Int,
                declaredEventCount: Int?, timestep: Double?, requiresDoublePrecision: Bool, storage: Storage,
                warnings: [ReadWarning], spillover: Result<SpilloverMatrix?, any Error>) {
        self.index = index
        self.version = version
        self.keywords = keywords
        self.channels = channels
        self.eventCount = eventCount
        self.declaredEventCount = declaredEventCount
        self.timestep = timestep
        self.requiresDoublePrecision = requiresDoublePrecision
        self.storage = storage
        self.warnings = warnings
        self.spillover = spillover
    }

    /// $CYT, the instrument, when present.
    public var cytometer: String? { keywords.trimmed("$CYT").flatMap { $0.isEmpty ? nil : $0 } }

    /// The index of the channel whose $PnN (or unique name) is `name`; case-sensitive first, then case-insensitive.
    ///
    /// - Complexity: O(channels).
    public func channelIndex(named name: String) -> Int? { channels.index(named: name) }
}

extension Array where Element == EventChannel {
    /// The index of the channel whose $PnN (or unique name) is `name`; case-sensitive first, then case-insensitive.
    ///
    /// - Complexity: O(count).
    public func index(named name: String) -> Int? {
        if let index = firstIndex(where: { $0.uniqueName == name }) { return index }
        let matches = indices.filter { self[$0].name == name }
        if matches.count == 1 { return matches[0] }
        let loose = indices.filter { self[$0].name.uppercased() == name.uppercased() }
        return loose.count == 1 ? loose[0] : nil
    }
}

/// How tolerant reading should be.
public struct ReadOptions: Sendable, Equatable {
    /// Read the complete events of a truncated file instead of failing; the data set then says how many were recovered.
    public var allowPartialData: Bool

    public init(allowPartialData: Bool = false) {
        self.allowPartialData = allowPartialData
    }
}

/// Raw or scaled values, for readers of every format.
public enum EventValues: Sendable {
    /// Stored values (integers masked to $PnR), as the reference readers give them.
    case raw
    /// Linear scale values: $PnE log amplification and $PnG gain applied, time in seconds (``ChannelScale``).
    case scaled
}

import EventCore

/// An opened FCS file: every data set of its $NEXTDATA chain, described, ready to read.
///
/// Opening reads the HEADER and TEXT of each data set (kilobytes), never the
/// events. Use ``reader(dataSet:blockSize:)`` to stream events.
///
/// ```swift
/// let file = try FCSFile(path: "sample.fcs")
/// let reader = try file.reader()
/// var block = EventBlock<Float>(channelCount: reader.channelCount, capacity: reader.blockSize)
/// while try reader.next(into: &block) { … }
/// ```
public final class FCSFile: Sendable {
    /// The path the file was opened from.
    public let path: String
    /// The file size in bytes.
    public var size: Int { source.size }
    /// The data sets in chain order (at least one), in the FCS reader's own terms.
    public let fcsDataSets: [FCSDataSet]
    /// The data sets in chain order, as every format describes them.
    public let dataSets: [EventDataSet]
    /// Problems with the file as a whole (a broken $NEXTDATA chain).
    public let warnings: [ReadWarning]
    let source: ByteSource

    /// Upper bound on data sets in one file.
    public static let maximumDataSets = 1_000

    /// Opens `path` and describes its data sets.
    /// - Throws: ``FCSError`` when the first data set cannot be read. A later data set that
    ///   cannot be read ends the chain with a warning.
    public convenience init(path: String, options: ReadOptions = ReadOptions()) throws(FCSError) {
        try self.init(source: ByteSource(path: path), options: options)
    }

    /// Reads an FCS file held in memory; `name` stands for its path in errors and warnings.
    public convenience init(bytes: [UInt8], name: String, options: ReadOptions = ReadOptions()) throws(FCSError) {
        try self.init(source: ByteSource(bytes: bytes, name: name), options: options)
    }

    /// Describes the data sets of `source`.
    public init(source: ByteSource, options: ReadOptions = ReadOptions()) throws(FCSError) {
        let path = source.path
        if source.size < FCSHeader.length {
            throw FCSError(file: path, .fileTooShort(size: source.size))
        }
        let parser = DataSetParser(source: source, options: options)
        var dataSets = [try parser.parse(at: 0, index: 0)]
        var warnings: [ReadWarning] = []
        var visited: Set<Int> = [0]
        while let last = dataSets.last, last.nextData != 0 {
            let value = last.keywords.trimmed("$NEXTDATA") ?? ""
            let next = clampedSum(last.offset, max(0, last.nextData))
            let problem: String?
            if last.nextData < 0 {
                problem = "not a non-negative integer"
            } else if visited.contains(next) || next <= last.offset {
                problem = "points back to byte \(next), an earlier data set (a loop)"
            } else if next > source.size - FCSHeader.length {
                problem = "points to byte \(next), past the end of the \(source.size)-byte file"
            } else if dataSets.count >= Self.maximumDataSets {
                problem = "more than \(Self.maximumDataSets) data sets"
            } else {
                problem = nil
            }
            if let problem {
                warnings.append(ReadWarning(.dataOffsetRejected,
                    "$NEXTDATA \(quoted(value)) of data set \(last.index) \(problem); the chain ends there"))
                break
            }
            visited.insert(next)
            do {
                dataSets.append(try parser.parse(at: next, index: dataSets.count))
            } catch {
                warnings.append(ReadWarning(.dataOffsetRejected,
                    "data set \(dataSets.count) at byte \(next) (from $NEXTDATA of data set \(last.index)) cannot be read: \(error.reasonDescription); the chain ends there"))
                break
            }
        }
        self.path = path
        self.source = source
        self.fcsDataSets = dataSets
        self.dataSets = dataSets.map(\.eventDataSet)
        self.warnings = warnings
    }

    /// The data set analysed when the caller names none: the first one of the highest
    /// FCS version. For Beckman LMD files (an FCS 2.0 data set followed by an FCS 3.0 one)
    /// this is the FCS 3 data set, whose 20-bit linear values Kaluza analyses.
    public var defaultDataSetIndex: Int {
        let best = fcsDataSets.map(\.header.versionNumber).max() ?? 0
        return fcsDataSets.firstIndex { $0.header.versionNumber == best } ?? 0
    }

    /// The data set at `index`, or the default one.
    public func dataSet(_ index: Int? = nil) throws(FCSError) -> FCSDataSet {
        let chosen = index ?? defaultDataSetIndex
        guard fcsDataSets.indices.contains(chosen) else {
            throw FCSError(file: path, .noSuchDataSet(index: chosen, count: fcsDataSets.count))
        }
        return fcsDataSets[chosen]
    }

    /// A streaming reader over the events of one data set.
    public func reader(dataSet index: Int? = nil, blockSize: Int = FCSEventReader.defaultBlockSize) throws(FCSError) -> FCSEventReader {
        FCSEventReader(source: source, dataSet: try dataSet(index), blockSize: blockSize)
    }

    /// The file's bytes in `range`, clamped to its end (the parts of a checksum no event read covers).
    /// - Complexity: one read of `range.count` bytes.
    public func bytes(_ range: Range<Int>) throws(FCSError) -> [UInt8] { try source.bytes(range) }
}

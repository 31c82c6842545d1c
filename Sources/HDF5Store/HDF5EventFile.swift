import CHDF5
import CHDF5Shim
import FCS
import Glibc

/// An HDF5 event file as ``HDF5EventWriter`` writes it, open for reading: channel names,
/// markers, keywords, and the events read in blocks of rows.
///
/// It is an ``EventSource`` like ``FCSFile``: one data set, described by the FCS keywords kept
/// in the file (so scales, markers and spillover are those of the original FCS file), read in
/// blocks by ``HDF5EventReader``.
///
/// Sizes come from the file's own dataspace and are checked (2-D, channels matching the name
/// list and $PAR/$PnN, at most 100,000 channels) before anything is allocated. Cost per block:
/// one hyperslab read and a transpose into the block's columns.
public final class HDF5EventFile: EventSource {
    public let path: String
    public let channels: [String]
    public let markers: [String?]
    public let keywords: [(String, String)]
    public let eventCount: Int
    public let size: Int
    public let dataSets: [FCSDataSet]
    public var formatName: String { "HDF5" }
    public var warnings: [FCSWarning] { [] }
    public var defaultDataSetIndex: Int { 0 }
    let file: hid_t
    let dataset: hid_t

    public init(path: String) throws(HDF5Error) {
        _ = HDF5Library.ready
        self.path = path
        guard H5Fis_hdf5(path) > 0 else { throw HDF5Error(file: path, operation: "open", message: "not an HDF5 file (or unreadable)") }
        file = try HDF5Library.check(H5Fopen(path, chdf5_f_acc_rdonly(), chdf5_p_default()), file: path, "open")
        var opened: hid_t = -1
        do throws(HDF5Error) {
            opened = try HDF5Library.check(H5Dopen2(file, "events", chdf5_p_default()), file: path, "open /events")
            let space = try HDF5Library.check(H5Dget_space(opened), file: path, "get /events space")
            defer { H5Sclose(space) }
            guard H5Sget_simple_extent_ndims(space) == 2 else { throw HDF5Error(file: path, operation: "open /events", message: "expected a 2-D matrix") }
            var dims: [hsize_t] = [0, 0]
            H5Sget_simple_extent_dims(space, &dims, nil)
            let names = try HDF5Strings.readDataset(name: "channels", at: file, file: path)
            guard Int(dims[1]) == names.count else {
                throw HDF5Error(file: path, operation: "open /events", message: "\(dims[1]) columns but \(names.count) channel names")
            }
            let markers = try HDF5Strings.readDataset(name: "markers", at: file, file: path)
            guard markers.count == names.count else { throw HDF5Error(file: path, operation: "open /markers", message: "\(markers.count) markers for \(names.count) channels") }
            let group = try HDF5Library.check(H5Gopen2(file, "keywords", chdf5_p_default()), file: path, "open /keywords")
            defer { H5Gclose(group) }
            keywords = try HDF5Strings.readAttributes(on: group, file: path)
            channels = names
            self.markers = markers.map { $0.isEmpty ? nil : $0 }
            eventCount = Int(dims[0])
            let version = try HDF5Strings.readRootAttribute("fcs_version", file: file, path: path) ?? "FCS3.1"
            dataSets = [try Self.describe(keywords: keywords, channels: names, markers: self.markers, version: version,
                                          eventCount: Int(dims[0]), path: path)]
            var status = stat()
            size = stat(path, &status) == 0 ? Int(status.st_size) : 0
            dataset = opened
        } catch {
            if opened >= 0 { H5Dclose(opened) }
            H5Fclose(file)
            throw error
        }
    }

    /// The data set the stored keywords describe. A file without FCS keywords ($PAR absent) is
    /// described from its channel and marker lists as float data; a file whose keywords
    /// disagree with its columns is an error rather than a guess.
    static func describe(keywords stored: [(String, String)], channels: [String], markers: [String?], version: String,
                         eventCount: Int, path: String) throws(HDF5Error) -> FCSDataSet {
        var keywords = FCSKeywords(stored)
        if keywords["$PAR"] == nil {
            keywords["$PAR"] = String(channels.count)
            keywords["$DATATYPE"] = "F"
            for (i, name) in channels.enumerated() {
                keywords["$P\(i + 1)N"] = name
                keywords["$P\(i + 1)B"] = "32"
                if let marker = markers[i] { keywords["$P\(i + 1)S"] = marker }
            }
        }
        let dataSet: FCSDataSet
        do { dataSet = try FCSDataSet.describing(keywords: keywords, version: version, eventCount: eventCount, path: path) } catch {
            throw HDF5Error(file: path, operation: "read /keywords", message: error.reasonDescription)
        }
        guard dataSet.channels.map(\.name) == channels else {
            throw HDF5Error(file: path, operation: "read /keywords",
                            message: "$PAR/$PnN name \(dataSet.channels.count) channels (\(dataSet.channels.map(\.name).prefix(6).joined(separator: ", "))…) but /channels lists \(channels.count) (\(channels.prefix(6).joined(separator: ", "))…)")
        }
        return dataSet
    }

    /// Reads `count` rows from `first` as float32, row-major, into `destination` (room for `count × channels` floats).
    func readRows(first: Int, count: Int, into destination: UnsafeMutableRawPointer) throws(HDF5Error) {
        guard count > 0 else { return }
        _ = HDF5Library.ready
        let space = try HDF5Library.check(H5Dget_space(dataset), file: path, "get /events space")
        defer { H5Sclose(space) }
        var start: [hsize_t] = [hsize_t(first), 0]
        var size: [hsize_t] = [hsize_t(count), hsize_t(channels.count)]
        try HDF5Library.check(H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nil, &size, nil), file: path, "select rows")
        let memory = try HDF5Library.check(H5Screate_simple(2, &size, nil), file: path, "create memory space")
        defer { H5Sclose(memory) }
        try HDF5Library.check(H5Dread(dataset, chdf5_native_float(), memory, space, chdf5_p_default(), destination), file: path,
                              "read rows \(first)-\(first + count - 1)")
    }

    public func eventReader(dataSet index: Int?, blockSize: Int) throws -> any EventReader {
        _ = try dataSet(at: index)
        return HDF5EventReader(file: self, blockSize: blockSize)
    }

    /// Reads events `first ..< first + block.capacity` (or to the end) into `block`.
    public func read(first: Int, into block: inout EventBlock<Float>) throws(HDF5Error) {
        precondition(block.channelCount == channels.count && first >= 0)
        let n = max(0, min(block.capacity, eventCount - first))
        var rows = [Float](repeating: 0, count: n * channels.count)
        var failure: HDF5Error?
        rows.withUnsafeMutableBytes { raw in
            do throws(HDF5Error) { try readRows(first: first, count: n, into: raw.baseAddress!) } catch { failure = error }
        }
        if let failure { throw failure }
        block.setCount(n)
        block.firstEvent = first
        HDF5EventReader.transpose(rows: rows, count: n, into: &block)
    }

    deinit {
        H5Dclose(dataset)
        H5Fclose(file)
    }
}

/// The ``EventReader`` of an ``HDF5EventFile``: block i is rows `i × blockSize ..< …` of
/// `/events`, read with one hyperslab and transposed into the block's columns. Safe to use from
/// several threads (libhdf5's thread-safe build serializes the reads themselves).
///
/// Cost per block: one `H5Dread` (a copy out of the chunk) and one transpose.
public struct HDF5EventReader: EventReader {
    let file: HDF5EventFile
    public let dataSet: FCSDataSet
    public let blockSize: Int
    public var values: FCSEventReader.Values = .raw

    init(file: HDF5EventFile, blockSize: Int) {
        self.file = file
        self.dataSet = file.dataSets[0]
        let byteCap = max(1, FCSEventReader.maximumBlockBytes / max(1, 4 * file.channels.count))
        self.blockSize = max(1, min(blockSize, byteCap, max(1, file.eventCount)))
    }

    public func readBlock<S: EventScalar>(_ index: Int, into block: inout EventBlock<S>, buffer: inout [UInt8]) throws {
        precondition(index >= 0 && index < blockCount, "block \(index) outside 0..<\(blockCount)")
        precondition(block.channelCount == channelCount && block.capacity >= blockSize, "block shape does not match the reader")
        let first = index * blockSize
        let count = min(blockSize, eventCount - first)
        let bytes = count * channelCount * 4
        if buffer.count < bytes { buffer = [UInt8](repeating: 0, count: blockSize * channelCount * 4) }
        try buffer.withUnsafeMutableBytes { raw in try file.readRows(first: first, count: count, into: raw.baseAddress!) }
        block.setCount(count)
        block.firstEvent = first
        buffer.withUnsafeBytes { raw in
            Self.transpose(rows: raw.bindMemory(to: Float.self), count: count, into: &block)
        }
        if values == .scaled { block.applyScales(of: dataSet.channels) }
    }

    /// Row-major float32 rows into the block's columns.
    static func transpose<S: EventScalar, Rows: Collection<Float>>(rows: Rows, count: Int, into block: inout EventBlock<S>)
    where Rows.Index == Int {
        let width = block.channelCount, capacity = block.capacity
        block.withUnsafeMutableStorage { columns in
            for e in 0..<count {
                let row = e * width
                for c in 0..<width { columns[c * capacity + e] = S(rows[rows.startIndex + row + c]) }
            }
        }
    }
}

import CHDF5
import CHDF5Shim
import EventCore
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
    /// Largest event matrix accepted: 2³¹ events (more than any acquisition) and 4,096 channels.
    public static let maximumEvents = Int(Int32.max)
    public static let maximumChannels = 4_096
    public let path: String
    public let channels: [String]
    public let markers: [String?]
    public let keywords: [(String, String)]
    public let eventCount: Int
    public let size: Int
    public let dataSets: [EventDataSet]
    public var formatName: String { "HDF5" }
    public var warnings: [ReadWarning] { [] }
    public var defaultDataSetIndex: Int { 0 }
    let file: hid_t
    let dataset: hid_t
    /// Rows per chunk of /events, when the chunks hold plain little-endian float32 rows (no
    /// filters) and can be read whole with `H5Dread_chunk`; nil otherwise.
    let plainChunkRows: Int?

    public init(path: String) throws(HDF5Error) {
        _ = HDF5Library.ready
        self.path = path
        guard let superblock = EventFileKind.hdf5SignatureOffset(path) else { throw HDF5Error(file: path, operation: "open", message: "not an HDF5 file (or unreadable)") }
        try HDF5Superblock.validate(path: path, offset: superblock)
        try HDF5Probe.check(path: path)   // libhdf5 may crash on a malformed file: let it, in a child
        file = try HDF5Library.openReadOnly(path)
        var opened: hid_t = -1
        do throws(HDF5Error) {
            // A chunk cache of 64 MiB, so blocks that do not line up with chunks do not re-read them.
            let access = try HDF5Library.check(H5Pcreate(chdf5_p_dataset_access()), file: path, "create access properties")
            defer { H5Pclose(access) }
            H5Pset_chunk_cache(access, 1_009, 64 << 20, 1.0)
            if H5Lexists(file, "events", chdf5_p_default()) <= 0 && H5Lexists(file, "X", chdf5_p_default()) > 0 {
                throw HDF5Error(file: path, operation: "open /events", message: "this is an AnnData file (/X); FlowMRD reads HDF5 event stores in the flowmrd layout (docs/hdf5-layout.md): convert the FCS file to .h5")
            }
            opened = try HDF5Library.check(H5Dopen2(file, "events", access), file: path, "open /events")
            let space = try HDF5Library.check(H5Dget_space(opened), file: path, "get /events space")
            defer { H5Sclose(space) }
            guard H5Sget_simple_extent_ndims(space) == 2 else { throw HDF5Error(file: path, operation: "open /events", message: "expected a 2-D matrix") }
            var dims: [hsize_t] = [0, 0]
            H5Sget_simple_extent_dims(space, &dims, nil)
            // Dimensions come from the file: checked before they size anything (an event count
            // beyond what any acquisition holds, or beyond Int, would trap or exhaust memory).
            guard let rows = Int(exactly: dims[0]), let columns = Int(exactly: dims[1]), columns > 0,
                  rows <= Self.maximumEvents, columns <= Self.maximumChannels else {
                throw HDF5Error(file: path, operation: "open /events",
                                message: "dimensions \(dims[0]) × \(dims[1]) are outside 0…\(Self.maximumEvents) events × 1…\(Self.maximumChannels) channels")
            }
            let names = try HDF5Strings.readDataset(name: "channels", at: file, file: path)
            guard columns == names.count else {
                throw HDF5Error(file: path, operation: "open /events", message: "\(dims[1]) columns but \(names.count) channel names")
            }
            let markers = try HDF5Strings.readDataset(name: "markers", at: file, file: path)
            guard markers.count == names.count else { throw HDF5Error(file: path, operation: "open /markers", message: "\(markers.count) markers for \(names.count) channels") }
            let group = try HDF5Library.check(H5Gopen2(file, "keywords", chdf5_p_default()), file: path, "open /keywords")
            defer { H5Gclose(group) }
            keywords = try HDF5Strings.readAttributes(on: group, file: path)
            channels = names
            self.markers = markers.map { $0.isEmpty ? nil : $0 }
            eventCount = rows
            let version = try HDF5Strings.readRootAttribute("fcs_version", file: file, path: path) ?? "FCS3.1"
            dataSets = [try Self.describe(keywords: keywords, channels: names, markers: self.markers, version: version,
                                          eventCount: rows, path: path)]
            var status = stat()
            size = stat(path, &status) == 0 ? Int(status.st_size) : 0
            dataset = opened
            plainChunkRows = Self.plainChunkRows(opened, channels: names.count)
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
                         eventCount: Int, path: String) throws(HDF5Error) -> EventDataSet {
        var keywords = DataSetKeywords(stored)
        if keywords["$PAR"] == nil {
            keywords["$PAR"] = String(channels.count)
            keywords["$DATATYPE"] = "F"
            for (i, name) in channels.enumerated() {
                keywords["$P\(i + 1)N"] = name
                keywords["$P\(i + 1)B"] = "32"
                if let marker = markers[i] { keywords["$P\(i + 1)S"] = marker }
            }
        }
        let dataSet: EventDataSet
        do { dataSet = try EventDataSet.describing(keywords: keywords, version: version, eventCount: eventCount, path: path) } catch {
            throw HDF5Error(file: path, operation: "read /keywords", message: error.reasonWithoutFileName)
        }
        guard dataSet.channels.map(\.name) == channels else {
            throw HDF5Error(file: path, operation: "read /keywords",
                            message: "$PAR/$PnN name \(dataSet.channels.count) channels (\(dataSet.channels.map(\.name).prefix(6).joined(separator: ", "))…) but /channels lists \(channels.count) (\(channels.prefix(6).joined(separator: ", "))…)")
        }
        return dataSet
    }

    /// The chunk height when chunks are unfiltered little-endian float32 rows spanning every channel.
    static func plainChunkRows(_ dataset: hid_t, channels: Int) -> Int? {
        let creation = H5Dget_create_plist(dataset)
        guard creation >= 0 else { return nil }
        defer { H5Pclose(creation) }
        let type = H5Dget_type(dataset)
        guard type >= 0 else { return nil }
        defer { H5Tclose(type) }
        guard H5Pget_layout(creation) == H5D_CHUNKED, H5Pget_nfilters(creation) == 0, H5Tequal(type, chdf5_ieee_f32le()) > 0 else { return nil }
        var chunk: [hsize_t] = [0, 0]
        guard H5Pget_chunk(creation, 2, &chunk) == 2, Int(chunk[1]) == channels, chunk[0] > 0 else { return nil }
        return Int(chunk[0])
    }

    /// Reads `count` rows from `first` as float32, row-major, into `destination` (room for
    /// `capacity` bytes, at least `count × channels` floats). Rows within one unfiltered chunk,
    /// with room for the whole chunk, are a direct chunk read (a copy of the chunk's bytes);
    /// anything else goes through a hyperslab selection.
    func readRows(first: Int, count: Int, into destination: UnsafeMutableRawPointer, capacity: Int? = nil) throws(HDF5Error) {
        guard count > 0 else { return }
        _ = HDF5Library.ready
        if let rows = plainChunkRows, first / rows == (first + count - 1) / rows, (capacity ?? 0) >= rows * channels.count * 4 {
            // The rows lie in one chunk: read it whole, then move the rows wanted to the front.
            let chunkStart = first / rows * rows
            var offset: [hsize_t] = [hsize_t(chunkStart), 0]
            var filters: UInt32 = 0
            try HDF5Library.check(H5Dread_chunk(dataset, chdf5_p_default(), &offset, &filters, destination), file: path,
                                  "read rows \(first)-\(first + count - 1)")
            let rowBytes = channels.count * 4
            if first > chunkStart { memmove(destination, destination + (first - chunkStart) * rowBytes, count * rowBytes) }
            return
        }
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
        rows.withUnsafeBufferPointer { HDF5EventReader.transpose(rows: $0, count: n, into: &block) }
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
    public let dataSet: EventDataSet
    public let blockSize: Int
    public var values: EventValues = .raw

    init(file: HDF5EventFile, blockSize: Int) {
        self.file = file
        self.dataSet = file.dataSets[0]
        let byteCap = max(1, FCSEventReader.maximumBlockBytes / max(1, 4 * file.channels.count))
        self.blockSize = max(1, min(blockSize, byteCap, max(1, file.eventCount)))
    }

    /// Specialized for `Float` and `Double`: called through the ``EventReader`` protocol, an
    /// unspecialized copy would convert every value through generic witnesses (30× slower).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func readBlock<S: EventScalar>(_ index: Int, into block: inout EventBlock<S>, buffer: inout [UInt8]) throws {
        precondition(index >= 0 && index < blockCount, "block \(index) outside 0..<\(blockCount)")
        precondition(block.channelCount == channelCount && block.capacity >= blockSize, "block shape does not match the reader")
        let first = index * blockSize
        let count = min(blockSize, eventCount - first)
        let bytes = count * channelCount * 4
        // Room for a whole chunk too, so chunk-aligned blocks are read directly.
        let room = max(blockSize, file.plainChunkRows ?? 0) * channelCount * 4
        if buffer.count < max(bytes, room) { buffer = [UInt8](repeating: 0, count: room) }
        try buffer.withUnsafeMutableBytes { raw in try file.readRows(first: first, count: count, into: raw.baseAddress!, capacity: raw.count) }
        block.setCount(count)
        block.firstEvent = first
        buffer.withUnsafeBytes { raw in
            Self.transpose(rows: raw.bindMemory(to: Float.self), count: count, into: &block)
        }
        if values == .scaled { block.applyScales(of: dataSet.channels) }
    }

    /// Row-major float32 rows into the block's columns.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func transpose<S: EventScalar>(rows: UnsafeBufferPointer<Float>, count: Int, into block: inout EventBlock<S>) {
        let width = block.channelCount, capacity = block.capacity
        precondition(rows.count >= count * width)
        let source = rows.baseAddress!
        block.withUnsafeMutableStorage { columns in
            for c in 0..<width {
                let column = columns + c * capacity
                for e in 0..<count { column[e] = S(source[e * width + c]) }
            }
        }
    }
}

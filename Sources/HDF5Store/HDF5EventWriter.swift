import CHDF5
import CHDF5Shim
import EventCore
import FCS
import Foundation

/// How an HDF5 event file is laid out (docs/hdf5-layout.md).
public enum HDF5EventLayout: String, Sendable, CaseIterable {
    /// FlowMRD's own: `/events`, `/channels`, `/markers`, `/keywords` (read back by ``HDF5EventFile``).
    case flowmrd
    /// AnnData's .h5ad: `/X`, `/var` (marker names as the index, `channel` and `marker` columns),
    /// `/obs` (event numbers as the index), the FCS keywords in `/uns/fcs_keywords`.
    case anndata
}

/// Writes events to an HDF5 file as a chunked float32 matrix [events × channels] — `/events`
/// in the FlowMRD layout, `/X` in the AnnData layout — appended block by block (memory: one
/// block), with the channel names, markers and every FCS keyword (``HDF5EventLayout``).
/// Written to a temporary file and renamed on ``finish()``: a reader never sees half a file.
///
/// Cost: one hyperslab write per block. Compression (shuffle + deflate) is optional and off by
/// default: cytometry values barely compress and deflate costs several times the write.
public final class HDF5EventWriter {
    public let path: String
    let temporary: String
    let channels: Int
    var file: hid_t = -1
    var dataset: hid_t = -1
    public private(set) var written = 0
    let chunkRows: Int
    /// Rows the dataset currently has room for (grown when a block needs more).
    var capacity: Int
    /// One block's rows, reused.
    var rows: [Float] = []
    public let layout: HDF5EventLayout
    /// Whole chunks go straight to the file (`H5Dwrite_chunk`) when nothing filters them.
    let directChunks: Bool

    /// - Parameter expectedEvents: when known (an FCS file's $TOT), the dataset is created at that
    ///   size instead of growing block by block; ``finish()`` trims it to the events written.
    /// - Parameters:
    ///   - fcsVersion: the FCS version of the source ("FCS3.1"), kept as the root attribute
    ///     `fcs_version` (AnnData: `/uns/fcs_version`).
    ///   - compression: deflate level 1–9 with the shuffle filter, or nil for none.
    public init(path: String, channelNames: [String], markers: [String?], keywords: [(String, String)] = [],
                fcsVersion: String? = nil, expectedEvents: Int = 0, chunkRows: Int = 16_384,
                layout: HDF5EventLayout = .flowmrd, compression: Int? = nil) throws(HDF5Error) {
        _ = HDF5Library.ready
        self.path = path
        self.temporary = path + ".partial"
        self.channels = channelNames.count
        self.chunkRows = max(1, chunkRows)
        self.capacity = max(0, expectedEvents)
        self.layout = layout
        self.directChunks = compression == nil
        if let compression, !(1...9).contains(compression) {
            throw HDF5Error(file: path, operation: "create", message: "compression level \(compression) is not 1-9")
        }
        file = try HDF5Library.createFile(temporary, file: path)
        var dims: [hsize_t] = [hsize_t(capacity), hsize_t(channels)]
        var maxDims: [hsize_t] = [chdf5_s_unlimited(), hsize_t(channels)]
        let space = try HDF5Library.check(H5Screate_simple(2, &dims, &maxDims), file: path, "create dataspace")
        defer { H5Sclose(space) }
        let properties = try HDF5Library.untimed(chdf5_p_dataset_create(), file: path)
        defer { H5Pclose(properties) }
        var chunk: [hsize_t] = [hsize_t(self.chunkRows), hsize_t(max(1, channels))]
        try HDF5Library.check(H5Pset_chunk(properties, 2, &chunk), file: path, "set chunk")
        if let compression {
            try HDF5Library.check(H5Pset_shuffle(properties), file: path, "set shuffle")
            try HDF5Library.check(H5Pset_deflate(properties, UInt32(compression)), file: path, "set deflate")
        }
        let matrix = layout == .flowmrd ? "events" : "X"
        dataset = try HDF5Library.check(H5Dcreate2(file, matrix, chdf5_ieee_f32le(), space, chdf5_p_default(), properties, chdf5_p_default()),
                                        file: path, "create /\(matrix)")
        switch layout {
        case .flowmrd:
            try HDF5Strings.writeDataset(channelNames, name: "channels", at: file, file: path)
            try HDF5Strings.writeDataset(markers.map { $0 ?? "" }, name: "markers", at: file, file: path)
            let group = try createGroup("keywords", at: file)
            defer { H5Gclose(group) }
            for (key, value) in keywords { try HDF5Strings.writeAttribute(value, name: key, on: group, file: path) }
            if let fcsVersion { try HDF5Strings.writeRootAttribute(fcsVersion, name: "fcs_version", file: file, path: path) }
        case .anndata:
            try writeAnnDataMetadata(channelNames: channelNames, markers: markers, keywords: keywords, fcsVersion: fcsVersion)
        }
    }

    /// A group that records no times.
    private func createGroup(_ name: String, at location: hid_t) throws(HDF5Error) -> hid_t {
        let properties = try HDF5Library.untimed(chdf5_p_group_create(), file: path)
        defer { H5Pclose(properties) }
        return try HDF5Library.check(H5Gcreate2(location, name, chdf5_p_default(), properties, chdf5_p_default()), file: path, "create /\(name)")
    }

    /// anndata's `encoding-type` / `encoding-version` attributes on an object.
    private func encode(_ object: hid_t, _ type: String, _ version: String) throws(HDF5Error) {
        try HDF5Strings.writeAttribute(type, name: "encoding-type", on: object, file: path)
        try HDF5Strings.writeAttribute(version, name: "encoding-version", on: object, file: path)
    }

    /// The AnnData names of the variables: each channel's marker when it has one that no other
    /// channel shares, else its $PnN (so the index is unique, as AnnData wants).
    static func annDataVariableNames(channelNames: [String], markers: [String?]) -> [String] {
        var counts: [String: Int] = [:]
        for marker in markers.compactMap({ $0 }) where !marker.isEmpty { counts[marker, default: 0] += 1 }
        var names = channelNames.indices.map { i in
            if let m = markers[i], !m.isEmpty, counts[m] == 1, !channelNames.contains(m) || channelNames[i] == m { return m }
            return channelNames[i]
        }
        // Repeated $PnN too: number the repeats like the FCS reader ("name [Pn]").
        var seen: [String: Int] = [:]
        for name in names { seen[name, default: 0] += 1 }
        for i in names.indices where seen[names[i]]! > 1 { names[i] += " [P\(i + 1)]" }
        return names
    }

    /// Root, /X, /var, /uns, and the empty groups AnnData expects; /obs gets its index at ``finish()``.
    private func writeAnnDataMetadata(channelNames: [String], markers: [String?], keywords: [(String, String)], fcsVersion: String?) throws(HDF5Error) {
        let root = try HDF5Library.check(H5Gopen2(file, "/", chdf5_p_default()), file: path, "open /")
        defer { H5Gclose(root) }
        try encode(root, "anndata", "0.1.0")
        try encode(dataset, "array", "0.2.0")
        let variables = try createGroup("var", at: file)
        defer { H5Gclose(variables) }
        try encode(variables, "dataframe", "0.2.0")
        try HDF5Strings.writeAttribute("_index", name: "_index", on: variables, file: path)
        try HDF5Strings.writeAttribute(strings: ["channel", "marker"], name: "column-order", on: variables, file: path)
        for (name, values) in [("_index", Self.annDataVariableNames(channelNames: channelNames, markers: markers)),
                               ("channel", channelNames), ("marker", markers.map { $0 ?? "" })] {
            let column = try HDF5Strings.createDataset(values, name: name, at: variables, file: path)
            defer { H5Dclose(column) }
            try encode(column, "string-array", "0.2.0")
        }
        let uns = try createGroup("uns", at: file)
        defer { H5Gclose(uns) }
        try encode(uns, "dict", "0.1.0")
        let fcs = try createGroup("fcs_keywords", at: uns)
        defer { H5Gclose(fcs) }
        try encode(fcs, "dict", "0.1.0")
        for (key, value) in keywords {
            let scalar = try HDF5Strings.writeScalar(value, name: Self.annDataKey(key), at: fcs, file: path)
            defer { H5Dclose(scalar) }
            try encode(scalar, "string", "0.2.0")
        }
        if let fcsVersion {
            let scalar = try HDF5Strings.writeScalar(fcsVersion, name: "fcs_version", at: uns, file: path)
            defer { H5Dclose(scalar) }
            try encode(scalar, "string", "0.2.0")
        }
        for name in ["layers", "obsm", "obsp", "varm", "varp"] {
            let group = try createGroup(name, at: file)
            defer { H5Gclose(group) }
            try encode(group, "dict", "0.1.0")
        }
    }

    /// An FCS keyword as an HDF5 link name: "/" (a path separator) becomes "%2F", "%" becomes
    /// "%25", and the names "." and "" are spelt "%2E" and "%00".
    static func annDataKey(_ key: String) -> String {
        if key.isEmpty { return "%00" }
        if key == "." { return "%2E" }
        return key.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
    }

    /// Appends a block's events (channel-major in the block, row-major in the file).
    public func append(_ block: EventBlock<Float>) throws(HDF5Error) {
        let n = block.count
        guard n > 0 else { return }
        _ = HDF5Library.ready
        // A block that starts a chunk and fits in it is written as that whole chunk, padded with zeros.
        let direct = directChunks && written % chunkRows == 0 && n <= chunkRows
        let needed = (direct ? chunkRows : n) * channels
        if rows.count < needed { rows = [Float](repeating: 0, count: max(needed, chunkRows * channels)) }
        let width = channels
        rows.withUnsafeMutableBufferPointer { out in
            for c in 0..<width { block.withColumn(c) { column in for e in 0..<n { out[e * width + c] = column[e] } } }
            if direct && n < chunkRows { for i in (n * width)..<(chunkRows * width) { out[i] = 0 } }
        }
        // Exactly one chunk's worth of rows when direct, so appendRows writes the chunk whole.
        let usable = direct ? chunkRows * width : n * width
        var failure: HDF5Error?
        rows.withUnsafeBytes { raw in
            do throws(HDF5Error) { try appendRows(UnsafeRawBufferPointer(rebasing: raw[0..<(usable * 4)]), count: n) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Appends `count` events given as row-major little-endian float32 rows (an FCS file's
    /// stored bytes when ``FCSEventReader/storesFloat32Rows``), with no transpose. When the rows
    /// start a chunk and `rows` has room for a whole chunk (zeros after `count` rows), the chunk
    /// is written directly.
    public func appendRows(_ rows: UnsafeRawBufferPointer, count n: Int) throws(HDF5Error) {
        guard n > 0 else { return }
        _ = HDF5Library.ready
        let rowBytes = channels * MemoryLayout<Float>.size
        precondition(rows.count >= n * rowBytes, "rows hold fewer than \(n) events")
        _ = HDF5Library.ready
        if written + n > capacity {
            capacity = written + n
            var size: [hsize_t] = [hsize_t(capacity), hsize_t(channels)]
            try HDF5Library.check(H5Dset_extent(dataset, &size), file: path, "extend the event matrix")
        }
        if directChunks && written % chunkRows == 0 && n <= chunkRows && rows.count >= chunkRows * rowBytes {
            var offset: [hsize_t] = [hsize_t(written), 0]
            try HDF5Library.check(H5Dwrite_chunk(dataset, chdf5_p_default(), 0, &offset, chunkRows * rowBytes, rows.baseAddress!),
                                  file: path, "write rows")
            written += n
            return
        }
        let fileSpace = try HDF5Library.check(H5Dget_space(dataset), file: path, "get dataspace")
        defer { H5Sclose(fileSpace) }
        var start: [hsize_t] = [hsize_t(written), 0]
        var count: [hsize_t] = [hsize_t(n), hsize_t(channels)]
        try HDF5Library.check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil), file: path, "select rows")
        let memory = try HDF5Library.check(H5Screate_simple(2, &count, nil), file: path, "create memory space")
        defer { H5Sclose(memory) }
        try HDF5Library.check(H5Dwrite(dataset, chdf5_native_float(), memory, fileSpace, chdf5_p_default(), rows.baseAddress!), file: path, "write rows")
        written += n
    }

    /// Closes the file and renames it into place.
    public func finish() throws(HDF5Error) {
        _ = HDF5Library.ready
        if dataset >= 0 && capacity != written {
            var size: [hsize_t] = [hsize_t(written), hsize_t(channels)]
            try HDF5Library.check(H5Dset_extent(dataset, &size), file: path, "trim the event matrix")
        }
        if layout == .anndata && file >= 0 { try writeObservations() }
        if dataset >= 0 { H5Dclose(dataset); dataset = -1 }
        if file >= 0 {
            try HDF5Library.check(H5Fclose(file), file: path, "close")
            file = -1
        }
        if rename(temporary, path) != 0 { throw HDF5Error(file: path, operation: "rename", message: String(cString: strerror(errno))) }
    }

    /// AnnData's /obs: a dataframe whose index is the event number (0-based, int64), written in
    /// pieces of 1 Mi events so memory stays flat. anndata turns it into a string index on loading.
    private func writeObservations() throws(HDF5Error) {
        let observations = try createGroup("obs", at: file)
        defer { H5Gclose(observations) }
        try encode(observations, "dataframe", "0.2.0")
        try HDF5Strings.writeAttribute("_index", name: "_index", on: observations, file: path)
        try HDF5Strings.writeAttribute(strings: [], name: "column-order", on: observations, file: path)
        var dims: [hsize_t] = [hsize_t(written)]
        let space = try HDF5Library.check(H5Screate_simple(1, &dims, nil), file: path, "create /obs/_index space")
        defer { H5Sclose(space) }
        let properties = try HDF5Library.untimed(chdf5_p_dataset_create(), file: path)
        defer { H5Pclose(properties) }
        let piece = 1 << 20
        if written > 0 {
            var chunk: [hsize_t] = [hsize_t(min(written, piece))]
            try HDF5Library.check(H5Pset_chunk(properties, 1, &chunk), file: path, "set chunk")
        }
        let index = try HDF5Library.check(H5Dcreate2(observations, "_index", chdf5_std_i64le(), space, chdf5_p_default(), properties, chdf5_p_default()),
                                          file: path, "create /obs/_index")
        defer { H5Dclose(index) }
        try encode(index, "array", "0.2.0")
        var numbers = [Int64](repeating: 0, count: min(written, piece))
        var first = 0
        while first < written {
            let n = min(piece, written - first)
            for i in 0..<n { numbers[i] = Int64(first + i) }
            var start: [hsize_t] = [hsize_t(first)], count: [hsize_t] = [hsize_t(n)]
            try HDF5Library.check(H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nil, &count, nil), file: path, "select /obs/_index")
            let memory = try HDF5Library.check(H5Screate_simple(1, &count, nil), file: path, "create memory space")
            defer { H5Sclose(memory) }
            try HDF5Library.check(H5Dwrite(index, chdf5_native_int64(), memory, space, chdf5_p_default(), numbers), file: path, "write /obs/_index")
            first += n
        }
    }

    deinit {
        if dataset >= 0 { H5Dclose(dataset) }
        if file >= 0 {
            H5Fclose(file)
            unlink(temporary)
        }
    }
}

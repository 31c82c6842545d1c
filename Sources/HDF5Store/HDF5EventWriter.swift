import CHDF5
import CHDF5Shim
import FCS
import Foundation

/// Writes events to an HDF5 file as a chunked float32 matrix `/events` [events × channels],
/// appended block by block (memory: one block), with the channel names in `/channels`, the
/// markers in `/markers` (empty text where a channel has none) and every FCS keyword as a
/// string attribute of the group `/keywords`. Written to a temporary file and renamed on ``finish()``: a reader never sees
/// half a file.
///
/// Cost: one hyperslab write per block; no compression (cytometry data barely compresses).
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

    /// - Parameter expectedEvents: when known (an FCS file's $TOT), the dataset is created at that
    ///   size instead of growing block by block; ``finish()`` trims it to the events written.
    /// - Parameter fcsVersion: the FCS version of the source ("FCS3.1"), kept as the root attribute `fcs_version`.
    public init(path: String, channelNames: [String], markers: [String?], keywords: [(String, String)] = [],
                fcsVersion: String? = nil, expectedEvents: Int = 0, chunkRows: Int = 16_384) throws(HDF5Error) {
        _ = HDF5Library.ready
        self.path = path
        self.temporary = path + ".partial"
        self.channels = channelNames.count
        self.chunkRows = max(1, chunkRows)
        self.capacity = max(0, expectedEvents)
        file = try HDF5Library.createFile(temporary, file: path)
        var dims: [hsize_t] = [hsize_t(capacity), hsize_t(channels)]
        var maxDims: [hsize_t] = [chdf5_s_unlimited(), hsize_t(channels)]
        let space = try HDF5Library.check(H5Screate_simple(2, &dims, &maxDims), file: path, "create dataspace")
        defer { H5Sclose(space) }
        let properties = try HDF5Library.untimed(chdf5_p_dataset_create(), file: path)
        defer { H5Pclose(properties) }
        var chunk: [hsize_t] = [hsize_t(self.chunkRows), hsize_t(max(1, channels))]
        try HDF5Library.check(H5Pset_chunk(properties, 2, &chunk), file: path, "set chunk")
        dataset = try HDF5Library.check(H5Dcreate2(file, "events", chdf5_ieee_f32le(), space, chdf5_p_default(), properties, chdf5_p_default()),
                                        file: path, "create /events")
        try HDF5Strings.writeDataset(channelNames, name: "channels", at: file, file: path)
        try HDF5Strings.writeDataset(markers.map { $0 ?? "" }, name: "markers", at: file, file: path)
        let groupProperties = try HDF5Library.untimed(chdf5_p_group_create(), file: path)
        defer { H5Pclose(groupProperties) }
        let group = try HDF5Library.check(H5Gcreate2(file, "keywords", chdf5_p_default(), groupProperties, chdf5_p_default()), file: path, "create /keywords")
        defer { H5Gclose(group) }
        for (key, value) in keywords { try HDF5Strings.writeAttribute(value, name: key, on: group, file: path) }
        if let fcsVersion { try HDF5Strings.writeRootAttribute(fcsVersion, name: "fcs_version", file: file, path: path) }
    }

    /// Appends a block's events (channel-major in the block, row-major in the file).
    public func append(_ block: EventBlock<Float>) throws(HDF5Error) {
        let n = block.count
        guard n > 0 else { return }
        _ = HDF5Library.ready
        if rows.count < n * channels { rows = [Float](repeating: 0, count: n * channels) }
        let width = channels
        rows.withUnsafeMutableBufferPointer { out in
            for c in 0..<width { block.withColumn(c) { column in for e in 0..<n { out[e * width + c] = column[e] } } }
        }
        if written + n > capacity {
            capacity = written + n
            var size: [hsize_t] = [hsize_t(capacity), hsize_t(channels)]
            try HDF5Library.check(H5Dset_extent(dataset, &size), file: path, "extend /events")
        }
        let fileSpace = try HDF5Library.check(H5Dget_space(dataset), file: path, "get dataspace")
        defer { H5Sclose(fileSpace) }
        var start: [hsize_t] = [hsize_t(written), 0]
        var count: [hsize_t] = [hsize_t(n), hsize_t(channels)]
        try HDF5Library.check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil), file: path, "select rows")
        let memory = try HDF5Library.check(H5Screate_simple(2, &count, nil), file: path, "create memory space")
        defer { H5Sclose(memory) }
        try HDF5Library.check(H5Dwrite(dataset, chdf5_native_float(), memory, fileSpace, chdf5_p_default(), rows), file: path, "write rows")
        written += n
    }

    /// Closes the file and renames it into place.
    public func finish() throws(HDF5Error) {
        _ = HDF5Library.ready
        if dataset >= 0 && capacity != written {
            var size: [hsize_t] = [hsize_t(written), hsize_t(channels)]
            try HDF5Library.check(H5Dset_extent(dataset, &size), file: path, "trim /events")
        }
        if dataset >= 0 { H5Dclose(dataset); dataset = -1 }
        if file >= 0 {
            try HDF5Library.check(H5Fclose(file), file: path, "close")
            file = -1
        }
        if rename(temporary, path) != 0 { throw HDF5Error(file: path, operation: "rename", message: String(cString: strerror(errno))) }
    }

    deinit {
        if dataset >= 0 { H5Dclose(dataset) }
        if file >= 0 {
            H5Fclose(file)
            unlink(temporary)
        }
    }
}

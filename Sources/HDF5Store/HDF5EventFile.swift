import CHDF5
import CHDF5Shim
import FCS
import Glibc

/// An HDF5 event file as ``HDF5EventWriter`` writes it, open for reading: channel names,
/// markers, keywords, and the events read in blocks of rows.
///
/// Sizes come from the file's own dataspace and are checked (2-D, channels matching the name
/// list, at most 100,000 channels) before anything is allocated. Cost per block: one
/// hyperslab read and a transpose into the block's columns.
public final class HDF5EventFile {
    public let path: String
    public let channels: [String]
    public let markers: [String?]
    public let keywords: [(String, String)]
    public let eventCount: Int
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
            dataset = opened
        } catch {
            if opened >= 0 { H5Dclose(opened) }
            H5Fclose(file)
            throw error
        }
    }

    /// Reads events `first ..< first + block.capacity` (or to the end) into `block`.
    public func read(first: Int, into block: inout EventBlock<Float>) throws(HDF5Error) {
        precondition(block.channelCount == channels.count && first >= 0)
        let n = max(0, min(block.capacity, eventCount - first))
        block.setCount(n)
        block.firstEvent = first
        guard n > 0 else { return }
        let space = try HDF5Library.check(H5Dget_space(dataset), file: path, "get /events space")
        defer { H5Sclose(space) }
        var start: [hsize_t] = [hsize_t(first), 0]
        var count: [hsize_t] = [hsize_t(n), hsize_t(channels.count)]
        try HDF5Library.check(H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nil, &count, nil), file: path, "select rows")
        let memory = try HDF5Library.check(H5Screate_simple(2, &count, nil), file: path, "create memory space")
        defer { H5Sclose(memory) }
        var rows = [Float](repeating: 0, count: n * channels.count)
        try HDF5Library.check(H5Dread(dataset, chdf5_native_float(), memory, space, chdf5_p_default(), &rows), file: path, "read rows")
        let width = channels.count
        for c in 0..<width { block.withMutableColumn(c) { column in for e in 0..<n { column[e] = rows[e * width + c] } } }
    }

    deinit {
        H5Dclose(dataset)
        H5Fclose(file)
    }
}

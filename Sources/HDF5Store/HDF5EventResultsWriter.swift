import EventCore
import CHDF5
import CHDF5Shim
import Foundation

/// Writes per-event analysis results for audit and re-review: for every event its gate
/// membership bits and its final class, plus string attributes on the root (the JSON result).
///
/// Layout (docs/hdf5-layout.md): `/membership` uint8 [events × ⌈gates/8⌉] with gate g in bit
/// g mod 8 (least significant first) of byte g / 8 — numpy's
/// `unpackbits(m, axis=1, bitorder="little")[:, :len(gates)]`; `/gates` the gate ids in bit
/// order; `/class` uint8 [events]; `/classes` the class names by code. Both matrices are
/// created at their full size, so blocks may arrive in any order from any thread.
///
/// Written to `path.partial` and renamed on ``finish(attributes:)``; a writer released
/// without finishing removes its temporary file, so a failed run never leaves a half file.
///
/// Cost: one hyperslab write per block for each matrix, serialized by a lock (libhdf5
/// serializes them anyway); memory is the caller's block buffers.
public final class HDF5EventResultsWriter: @unchecked Sendable {
    public let path: String
    public let eventCount: Int
    /// Bytes of membership bits per event: ⌈gates / 8⌉ (at least 1).
    public let membershipBytes: Int
    let temporary: String
    /// Guards every HDF5 call and the handles below (`@unchecked Sendable` rests on it).
    let lock = NSLock()
    var file: hid_t = -1
    var membership: hid_t = -1
    var classes: hid_t = -1

    public init(path: String, eventCount: Int, gates: [String], classNames: [String], chunkRows: Int = 65_536) throws(HDF5Error) {
        _ = HDF5Library.ready
        self.path = path
        self.temporary = path + ".partial"
        self.eventCount = max(0, eventCount)
        self.membershipBytes = max(1, (gates.count + 7) / 8)
        do throws(HDF5Error) {
            file = try HDF5Library.createFile(temporary, file: path)
            let rows = hsize_t(max(1, min(chunkRows, self.eventCount)))
            membership = try Self.createMatrix(file: file, name: "membership", rows: self.eventCount, columns: membershipBytes, chunkRows: rows, path: path)
            classes = try Self.createMatrix(file: file, name: "class", rows: self.eventCount, columns: nil, chunkRows: rows, path: path)
            try HDF5Strings.writeDataset(gates, name: "gates", at: file, file: path)
            try HDF5Strings.writeDataset(classNames, name: "classes", at: file, file: path)
        } catch {
            close()
            unlink(temporary)
            throw error
        }
    }

    /// A uint8 dataset [rows] or [rows × columns], chunked by rows.
    static func createMatrix(file: hid_t, name: String, rows: Int, columns: Int?, chunkRows: hsize_t, path: String) throws(HDF5Error) -> hid_t {
        var dims: [hsize_t] = columns.map { [hsize_t(rows), hsize_t($0)] } ?? [hsize_t(rows)]
        let space = try HDF5Library.check(H5Screate_simple(Int32(dims.count), &dims, nil), file: path, "create /\(name) space")
        defer { H5Sclose(space) }
        let properties = try HDF5Library.untimed(chdf5_p_dataset_create(), file: path)
        defer { H5Pclose(properties) }
        if rows > 0 {
            var chunk: [hsize_t] = columns.map { [chunkRows, hsize_t($0)] } ?? [chunkRows]
            try HDF5Library.check(H5Pset_chunk(properties, Int32(chunk.count), &chunk), file: path, "set chunk")
            // Every chunk placed at creation, in order: blocks written in any order from any
            // thread then give a byte-identical file.
            try HDF5Library.check(H5Pset_alloc_time(properties, H5D_ALLOC_TIME_EARLY), file: path, "set allocation time")
        }
        return try HDF5Library.check(H5Dcreate2(file, name, chdf5_std_u8le(), space, chdf5_p_default(), properties, chdf5_p_default()),
                                     file: path, "create /\(name)")
    }

    /// Writes events `first ..< first + classes.count`: their classes and their membership
    /// rows (`membershipBytes` bytes per event, row-major). Safe to call from several threads.
    public func write(first: Int, classes codes: UnsafeBufferPointer<UInt8>, membership bits: UnsafeBufferPointer<UInt8>) throws(HDF5Error) {
        let n = codes.count
        guard n > 0 else { return }
        precondition(first >= 0 && first + n <= eventCount && bits.count >= n * membershipBytes, "rows outside the results matrix")
        lock.lock()
        defer { lock.unlock() }
        _ = HDF5Library.ready
        try writeRows(dataset: membership, first: first, count: n, columns: membershipBytes, data: bits.baseAddress!, name: "membership")
        try writeRows(dataset: classes, first: first, count: n, columns: nil, data: codes.baseAddress!, name: "class")
    }

    private func writeRows(dataset: hid_t, first: Int, count: Int, columns: Int?, data: UnsafeRawPointer, name: String) throws(HDF5Error) {
        let space = try HDF5Library.check(H5Dget_space(dataset), file: path, "get /\(name) space")
        defer { H5Sclose(space) }
        var start: [hsize_t] = columns == nil ? [hsize_t(first)] : [hsize_t(first), 0]
        var size: [hsize_t] = columns.map { [hsize_t(count), hsize_t($0)] } ?? [hsize_t(count)]
        try HDF5Library.check(H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nil, &size, nil), file: path, "select /\(name) rows")
        let memory = try HDF5Library.check(H5Screate_simple(Int32(size.count), &size, nil), file: path, "create memory space")
        defer { H5Sclose(memory) }
        try HDF5Library.check(H5Dwrite(dataset, chdf5_native_uchar(), memory, space, chdf5_p_default(), data), file: path, "write /\(name)")
    }

    /// Sets the class of the given events (any order) to `code`.
    public func setClass(_ code: UInt8, events: [Int]) throws(HDF5Error) {
        guard !events.isEmpty else { return }
        precondition(events.allSatisfy { $0 >= 0 && $0 < eventCount }, "event outside the results matrix")
        lock.lock()
        defer { lock.unlock() }
        _ = HDF5Library.ready
        let space = try HDF5Library.check(H5Dget_space(classes), file: path, "get /class space")
        defer { H5Sclose(space) }
        let coordinates = events.map { hsize_t($0) }
        try HDF5Library.check(H5Sselect_elements(space, H5S_SELECT_SET, coordinates.count, coordinates), file: path, "select events")
        var count: [hsize_t] = [hsize_t(events.count)]
        let memory = try HDF5Library.check(H5Screate_simple(1, &count, nil), file: path, "create memory space")
        defer { H5Sclose(memory) }
        let values = [UInt8](repeating: code, count: events.count)
        try HDF5Library.check(H5Dwrite(classes, chdf5_native_uchar(), memory, space, chdf5_p_default(), values), file: path, "write /class")
    }

    /// Writes the root attributes, closes the file and renames it into place.
    public func finish(attributes: [(String, String)]) throws(HDF5Error) {
        lock.lock()
        defer { lock.unlock() }
        _ = HDF5Library.ready
        guard file >= 0 else { throw HDF5Error(file: path, operation: "finish", message: "already finished") }
        for (name, value) in attributes { try HDF5Strings.writeRootAttribute(value, name: name, file: file, path: path) }
        if membership >= 0 { H5Dclose(membership); membership = -1 }
        if classes >= 0 { H5Dclose(classes); classes = -1 }
        let status = H5Fclose(file)
        file = -1
        try HDF5Library.check(status, file: path, "close")
        if rename(temporary, path) != 0 { throw HDF5Error(file: path, operation: "rename", message: String(cString: strerror(errno))) }
    }

    private func close() {
        if membership >= 0 { H5Dclose(membership); membership = -1 }
        if classes >= 0 { H5Dclose(classes); classes = -1 }
        if file >= 0 { H5Fclose(file); file = -1 }
    }

    deinit {
        if file >= 0 {
            close()
            unlink(temporary)
        }
    }
}

/// A per-event results file written by ``HDF5EventResultsWriter``, read back whole for
/// re-review: gate ids, class names, each event's class, membership per gate, root attributes.
///
/// Memory: the class vector (1 byte per event) plus one membership matrix read
/// (⌈gates/8⌉ bytes per event); sizes are checked against the gate and class lists first.
public final class HDF5EventResults {
    public let path: String
    public let gates: [String]
    public let classNames: [String]
    /// The class code of every event, in event order.
    public let classes: [UInt8]
    /// Root string attributes ("result" holds the JSON result).
    public let attributes: [String: String]
    let membershipBytes: [UInt8]
    let bytesPerEvent: Int

    public init(path: String) throws(HDF5Error) {
        _ = HDF5Library.ready
        self.path = path
        guard EventFile.isHDF5(path) else { throw HDF5Error(file: path, operation: "open", message: "not an HDF5 file (or unreadable)") }
        let file = try HDF5Library.openReadOnly(path)
        defer { H5Fclose(file) }
        gates = try HDF5Strings.readDataset(name: "gates", at: file, file: path)
        classNames = try HDF5Strings.readDataset(name: "classes", at: file, file: path)
        let (classes, classShape) = try Self.readBytes(name: "class", file: file, path: path)
        let (bits, bitShape) = try Self.readBytes(name: "membership", file: file, path: path)
        guard classShape.count == 1, bitShape.count == 2, bitShape[0] == classShape[0], bitShape[1] == max(1, (gates.count + 7) / 8) else {
            throw HDF5Error(file: path, operation: "open", message: "/class \(classShape) and /membership \(bitShape) do not fit \(gates.count) gates")
        }
        self.classes = classes
        self.membershipBytes = bits
        self.bytesPerEvent = bitShape[1]
        let root = try HDF5Library.check(H5Gopen2(file, "/", chdf5_p_default()), file: path, "open /")
        defer { H5Gclose(root) }
        attributes = Dictionary(try HDF5Strings.readAttributes(on: root, file: path), uniquingKeysWith: { a, _ in a })
    }

    /// Whether each event is in gate `id`; nil for an unknown gate.
    public func membership(of id: String) -> [Bool]? {
        guard let g = gates.firstIndex(of: id) else { return nil }
        let byte = g >> 3, bit = UInt8(1) << UInt8(g & 7)
        return (0..<classes.count).map { membershipBytes[$0 * bytesPerEvent + byte] & bit != 0 }
    }

    static func readBytes(name: String, file: hid_t, path: String) throws(HDF5Error) -> ([UInt8], [Int]) {
        let dataset = try HDF5Library.check(H5Dopen2(file, name, chdf5_p_default()), file: path, "open /\(name)")
        defer { H5Dclose(dataset) }
        let space = try HDF5Library.check(H5Dget_space(dataset), file: path, "get /\(name) space")
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank == 1 || rank == 2 else { throw HDF5Error(file: path, operation: "read /\(name)", message: "expected 1 or 2 dimensions, found \(rank)") }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        let shape = dims.map { Int($0) }
        let total = shape.reduce(1, *)
        guard total <= 1 << 34 else { throw HDF5Error(file: path, operation: "read /\(name)", message: "\(total) bytes is more than this reader takes") }
        var bytes = [UInt8](repeating: 0, count: total)
        if total > 0 {
            try HDF5Library.check(H5Dread(dataset, chdf5_native_uchar(), chdf5_p_default(), chdf5_p_default(), chdf5_p_default(), &bytes),
                                  file: path, "read /\(name)")
        }
        return (bytes, shape)
    }
}
